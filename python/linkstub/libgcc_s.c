/* A link-time stand-in for libgcc_s.so.1, never shipped: the extension is
 * linked against it so that it imports the unwinder's entry points from the
 * system's libgcc_s.so.1 (with GCC's symbol versions, libgcc_s.map) instead
 * of carrying the copy of LLVM's libunwind that zig links in place of
 * -lgcc_s. With two unwinders in one process, CPython ending a daemon
 * thread at exit (pthread_exit, whose forced unwind is glibc's, through
 * libgcc_s) ran into the extension's frames, whose personality routine
 * called the other unwinder with the first one's context: a segfault at
 * interpreter exit. python/dist.sh builds it with zig for each target. */
void _Unwind_Backtrace(void) {}
void _Unwind_DeleteException(void) {}
void _Unwind_FindEnclosingFunction(void) {}
void _Unwind_Find_FDE(void) {}
void _Unwind_ForcedUnwind(void) {}
void _Unwind_GetCFA(void) {}
void _Unwind_GetDataRelBase(void) {}
void _Unwind_GetGR(void) {}
void _Unwind_GetIP(void) {}
void _Unwind_GetIPInfo(void) {}
void _Unwind_GetLanguageSpecificData(void) {}
void _Unwind_GetRegionStart(void) {}
void _Unwind_GetTextRelBase(void) {}
void _Unwind_RaiseException(void) {}
void _Unwind_Resume(void) {}
void _Unwind_Resume_or_Rethrow(void) {}
void _Unwind_SetGR(void) {}
void _Unwind_SetIP(void) {}
void __gcc_personality_v0(void) {}
