// Compiled only by the layering tests (tests/layering/CMakeLists.txt): includes LAYERING_HEADER in
// a target that links one library, to show which headers that library's users can reach.
#include LAYERING_HEADER
