#include "app/guimain.h"

#include <cstdio>

namespace holdfast {
// STUB: the window issue replaces this.
int runGui(int &, char **, const Settings &)
{
    std::fputs("holdfast: the window is not built yet: use --headless\n", stderr);
    return 2;
}
} // namespace holdfast
