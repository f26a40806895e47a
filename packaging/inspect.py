"""Checks a library built for a platform this machine cannot run (macOS's
Mach-O, Windows's PE) the way its loader will see it: the CPU, the
install name (macOS) or file name (Windows), what it loads, and what it
exports. Used by packaging/check.sh on the macOS and Windows archives;
needs lief (the project's .venv).

    python packaging/inspect.py FILE ARCH ROLE

ARCH: x86_64 or arm64. ROLE: client (libhttpqq: exports the client, not
the test server) or testing (libhttpqq_testing: exports the test server
and loads libhttpqq). Prints one line, exits 1 with the reason on a
failure.
"""

import sys

import lief


def fail(why: str) -> None:
    print(f"{sys.argv[1]}: {why}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    path, arch, role = sys.argv[1:4]
    lief.logging.disable()
    binary = lief.parse(path)
    if binary is None:
        fail("not a library lief can read")
    exported = {s.name.lstrip("_") for s in binary.exported_functions} | {
        s.name.lstrip("_") for s in getattr(binary, "exported_symbols", [])
    }
    if isinstance(binary, lief.MachO.Binary):
        cpu = {"x86_64": lief.MachO.Header.CPU_TYPE.X86_64, "arm64": lief.MachO.Header.CPU_TYPE.ARM64}[arch]
        if binary.header.cpu_type != cpu:
            fail(f"built for {binary.header.cpu_type}, not {arch}")
        dylibs = [c for c in binary.commands if isinstance(c, lief.MachO.DylibCommand)]
        own = [c.name for c in dylibs if c.command == lief.MachO.LoadCommand.TYPE.ID_DYLIB]
        loads = [c.name for c in dylibs if c.command == lief.MachO.LoadCommand.TYPE.LOAD_DYLIB]
        rpaths = [c.path for c in binary.commands if isinstance(c, lief.MachO.RPathCommand)]
        want = "@rpath/libhttpqq." if role == "client" else "@rpath/libhttpqq_testing."
        if not own or not own[0].startswith(want):
            fail(f"its install name is {own}, not {want}*")
        outside = [name for name in loads if not name.startswith(("/usr/lib/", "/System/", "@rpath/libhttpqq."))]
        if outside:
            fail(f"loads {outside}, which a Mac does not have")
        if role == "testing" and (not any(n.startswith("@rpath/libhttpqq.") for n in loads) or "@loader_path" not in rpaths):
            fail(f"does not load libhttpqq from beside itself (loads {loads}, rpaths {rpaths})")
        minimum = [c for c in binary.commands if isinstance(c, (lief.MachO.BuildVersion, lief.MachO.VersionMin))]
        oldest = [list(c.minos if isinstance(c, lief.MachO.BuildVersion) else c.version)[:2] for c in minimum]
        if oldest != [[11, 0]]:
            fail(f"its oldest macOS is {oldest}, not 11.0")
        where = f"macOS 11.0, install name {own[0]}"
    elif isinstance(binary, lief.PE.Binary):
        machine = {"x86_64": lief.PE.Header.MACHINE_TYPES.AMD64, "arm64": lief.PE.Header.MACHINE_TYPES.ARM64}[arch]
        if binary.header.machine != machine:
            fail(f"built for {binary.header.machine}, not {arch}")
        loads = sorted({lib.name.lower() for lib in binary.imports})
        if role == "testing" and "httpqq.dll" not in loads:
            fail(f"does not load httpqq.dll (loads {loads})")
        outside = [n for n in loads if n.startswith(("libgcc", "libstdc++", "libwinpthread"))]
        if outside:
            fail(f"loads {outside}, which Windows does not have")
        where = f"loads {', '.join(sorted(loads))}"
    else:
        fail(f"neither Mach-O nor PE: {type(binary).__name__}")
    if role == "client":
        if "httpqq_client_new" not in exported or "httpqq_agent_start" not in exported:
            fail("does not export the client")
        if any(name.startswith("httpqq_server_") for name in exported):
            fail("exports the test server")
    elif "httpqq_server_start" not in exported:
        fail("does not export the test server")
    count = len([n for n in exported if n.startswith("httpqq_")])
    print(f"   {path.rsplit('/', 1)[-1]}: {arch}, {where}, {count} httpqq_ functions exported")


if __name__ == "__main__":
    main()
