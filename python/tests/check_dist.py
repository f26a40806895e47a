"""Checks what `python/dist.sh` built, as a package index and an old Linux
would see it: run by `make test` as `python check_dist.py DIST_DIR`.

- each wheel is tagged manylinux2014 (glibc 2.17) for its architecture,
  and auditwheel agrees that nothing in it needs a newer glibc;
- its extension is an ELF for that architecture (the aarch64 one cannot
  be imported here, so this is what can be checked of it), and imports the
  unwinder from the system's libgcc_s.so.1 rather than carrying one of its
  own (two unwinders in one process crashed CPython at exit);
- wheels and sdist carry both license files and complete metadata, with
  no placeholder URL;
- the wheel declares the `httpqq` command;
- the macOS wheels (x86_64 and arm64, macOS 11.0) and the Windows one
  (x86_64) cannot be run here: their extension is read with lief (as
  packaging/inspect.py reads the C libraries) for its CPU, the module's
  entry point `PyInit__native`, and what it loads (macOS: only the
  system's libraries, Python's symbols left for the interpreter; Windows:
  the stable ABI's python3.dll, none of mingw's runtime DLLs).
"""

from __future__ import annotations

import email
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ELF_MACHINE = {"x86_64": 62, "aarch64": 183}
# The wheels of the platforms this machine cannot run: tag, extension.
FOREIGN = {
    "macosx_11_0_x86_64": "httpqq/_native.abi3.so",
    "macosx_11_0_arm64": "httpqq/_native.abi3.so",
    "win_amd64": "httpqq/_native.pyd",
}
LICENSES = {"LICENSE-MIT", "LICENSE-APACHE"}


def check_metadata(text: str, where: str) -> None:
    meta = email.message_from_string(text)
    assert meta["License-Expression"] == "MIT OR Apache-2.0", where
    assert set(meta.get_all("License-File") or []) == LICENSES, where
    assert meta["Summary"] and meta["Keywords"] and meta["Author"], where
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers, where
    for system in ("POSIX :: Linux", "MacOS", "Microsoft :: Windows"):
        assert f"Operating System :: {system}" in classifiers, where
    assert any(c.startswith("Programming Language :: Python :: 3.") for c in classifiers), where
    assert meta["Requires-Python"] == ">=3.9", where
    assert "example.invalid" not in text, f"{where}: a placeholder URL"
    assert str(meta.get_payload()).startswith("# httpqq for Python"), f"{where}: no readme"


def check_unwinder(library: bytes, where: str) -> None:
    """The extension needs libgcc_s.so.1 and imports `_Unwind_Resume` from
    it (undefined here, with GCC's version), defining no unwinder itself."""
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    elf = ELFFile(io.BytesIO(library))
    needed = {
        getattr(tag, "needed")  # set on DT_NEEDED tags only
        for section in elf.iter_sections()
        if isinstance(section, DynamicSection)
        for tag in section.iter_tags()
        if tag.entry.d_tag == "DT_NEEDED"
    }
    assert "libgcc_s.so.1" in needed, f"{where}: does not need libgcc_s.so.1 ({needed})"
    for section in elf.iter_sections():
        if not isinstance(section, SymbolTableSection):
            continue
        for symbol in section.iter_symbols():
            if symbol.name.startswith("_Unwind_"):
                defined = symbol["st_shndx"] != "SHN_UNDEF"
                assert not defined, f"{where}: an unwinder of its own ({symbol.name} defined)"
    dynsym = elf.get_section_by_name(".dynsym")
    assert isinstance(dynsym, SymbolTableSection)
    assert dynsym.get_symbol_by_name("_Unwind_Resume"), f"{where}: _Unwind_Resume not imported"


def check_common(wheel: zipfile.ZipFile, path: Path) -> None:
    """What every wheel carries: licenses, metadata, the command."""
    names = wheel.namelist()
    dist_info = f"httpqq-{path.name.split('-')[1]}.dist-info"
    assert {f"{dist_info}/licenses/{name}" for name in LICENSES} <= set(names), names
    check_metadata(wheel.read(f"{dist_info}/METADATA").decode(), path.name)
    entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
    assert "httpqq=httpqq.cli:main" in entry_points.replace(" ", ""), entry_points
    for name in names:
        if name.endswith(".json"):
            assert b"example.invalid" not in wheel.read(name), f"{name}: a placeholder URL"


def check_foreign_wheel(path: Path, tag: str) -> None:
    """A macOS or Windows wheel, read with lief."""
    import lief

    lief.logging.disable()
    with zipfile.ZipFile(path) as wheel:
        native = FOREIGN[tag]
        assert native in wheel.namelist(), f"{path.name}: no {native}"
        with tempfile.TemporaryDirectory() as scratch:
            extension = Path(scratch) / Path(native).name
            extension.write_bytes(wheel.read(native))
            binary = lief.parse(str(extension))
        check_common(wheel, path)
    assert isinstance(binary, (lief.MachO.Binary, lief.PE.Binary)), f"{path.name}: {native} is neither Mach-O nor PE"
    exported = {str(f.name).lstrip("_") for f in binary.exported_functions}
    assert "PyInit__native" in exported, f"{path.name}: no PyInit__native"
    if tag.startswith("macosx"):
        assert isinstance(binary, lief.MachO.Binary), f"{path.name}: not Mach-O"
        cpu = {"x86_64": lief.MachO.Header.CPU_TYPE.X86_64, "arm64": lief.MachO.Header.CPU_TYPE.ARM64}
        arch = tag.removeprefix("macosx_11_0_")
        assert binary.header.cpu_type == cpu[arch], f"{path.name}: {binary.header.cpu_type}"
        loads = [
            str(c.name)
            for c in binary.commands
            if isinstance(c, lief.MachO.DylibCommand) and c.command == lief.MachO.LoadCommand.TYPE.LOAD_DYLIB
        ]
        outside = [name for name in loads if not name.startswith(("/usr/lib/", "/System/"))]
        assert not outside, f"{path.name}: loads {outside}"
        # Python's own functions are the interpreter's, found at load time.
        assert "PyModule_Create2" not in exported, f"{path.name}: carries Python"
        shown = f"Mach-O {arch}, loads {len(loads)} system libraries"
    else:
        assert isinstance(binary, lief.PE.Binary), f"{path.name}: not PE"
        assert binary.header.machine == lief.PE.Header.MACHINE_TYPES.AMD64, binary.header.machine
        loads = sorted({str(lib.name).lower() for lib in binary.imports})
        assert "python3.dll" in loads, f"{path.name}: does not load python3.dll ({loads})"
        # mingw's runtime, which Windows lacks, or one Python's own DLL
        # (python312.dll: not the stable ABI).
        runtime = [n for n in loads if n.startswith(("libgcc", "libstdc++", "libwinpthread")) or re.fullmatch(r"python3\d+\.dll", n)]
        assert not runtime, f"{path.name}: loads {runtime}"
        shown = f"PE AMD64, loads {', '.join(loads)}"
    print(f"ok: {path.name} ({shown}; PyInit__native exported)")


def check_wheel(path: Path) -> None:
    for tag in FOREIGN:
        if path.name.endswith(f"-{tag}.whl"):
            check_foreign_wheel(path, tag)
            return
    match = re.search(r"manylinux2014_(\w+?)\.manylinux_2_17_(\w+)\.whl$", path.name)
    assert match and match[1] == match[2], f"{path.name}: not tagged manylinux2014"
    arch = match[1]
    shown = subprocess.run(
        [sys.executable, "-m", "auditwheel", "show", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert f'"manylinux_2_17_{arch}"' in " ".join(shown.split()), shown
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        (native,) = [n for n in names if re.fullmatch(r"httpqq/_native\.abi3\.so", n)]
        header = wheel.read(native)[:20]
        assert header[:4] == b"\x7fELF", f"{native}: not an ELF"
        machine = int.from_bytes(header[18:20], "little")
        assert machine == ELF_MACHINE[arch], f"{native}: e_machine {machine}, not {arch}"
        check_unwinder(wheel.read(native), path.name)
        check_common(wheel, path)
    print(f"ok: {path.name} ({arch} ELF, auditwheel: manylinux_2_17_{arch})")


def check_sdist(path: Path) -> None:
    with tarfile.open(path) as sdist:
        top = path.name.removesuffix(".tar.gz")
        names = {Path(n).relative_to(top).as_posix() for n in sdist.getnames()}
        assert LICENSES <= names and {"pyproject.toml", "Cargo.lock", "python/Cargo.toml"} <= names
        pkg_info = sdist.extractfile(f"{top}/PKG-INFO")
        assert pkg_info is not None
        check_metadata(io.TextIOWrapper(pkg_info, encoding="utf-8").read(), path.name)
    print(f"ok: {path.name} ({len(names)} files)")


def main(dist: Path) -> None:
    wheels = sorted(dist.glob("httpqq-*.whl"))
    tags = {w.name.removesuffix(".whl").split("-")[-1] for w in wheels}
    linux = {f"manylinux2014_{arch}.manylinux_2_17_{arch}" for arch in ELF_MACHINE}
    assert tags == linux | set(FOREIGN), f"the wheels' platforms: {sorted(tags)}"
    for wheel in wheels:
        check_wheel(wheel)
    (sdist,) = dist.glob("httpqq-*.tar.gz")
    check_sdist(sdist)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
