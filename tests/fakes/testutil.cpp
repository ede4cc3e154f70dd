#include "fakes/testutil.h"
