/*
 * A stand-in for Windows's bcryptprimitives.dll, for running the Windows
 * builds under the wine Debian ships (8.0), which lacks it: Rust's
 * standard library (1.78 and later) imports ProcessPrng from it. Used only
 * by packaging/windows/test.sh, in the test's own wine prefix; never
 * shipped (every Windows since 10 has the real one). ProcessPrng is
 * answered by RtlGenRandom (advapi32's SystemFunction036), which wine has.
 * Mozilla's glean does the same for its wine CI (mozilla/glean#2823).
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
