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
- the wheel declares the `httpqq` command.
"""

from __future__ import annotations

import email
import io
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ELF_MACHINE = {"x86_64": 62, "aarch64": 183}
LICENSES = {"LICENSE-MIT", "LICENSE-APACHE"}


def check_metadata(text: str, where: str) -> None:
    meta = email.message_from_string(text)
    assert meta["License-Expression"] == "MIT OR Apache-2.0", where
    assert set(meta.get_all("License-File") or []) == LICENSES, where
    assert meta["Summary"] and meta["Keywords"] and meta["Author"], where
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and "Operating System :: POSIX :: Linux" in classifiers, where
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


def check_wheel(path: Path) -> None:
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
        dist_info = f"httpqq-{path.name.split('-')[1]}.dist-info"
        assert {f"{dist_info}/licenses/{name}" for name in LICENSES} <= set(names), names
        check_metadata(wheel.read(f"{dist_info}/METADATA").decode(), path.name)
        entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
        assert "httpqq=httpqq.cli:main" in entry_points.replace(" ", ""), entry_points
        for name in names:
            if name.endswith(".json"):
                assert b"example.invalid" not in wheel.read(name), f"{name}: a placeholder URL"
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
    assert {re.search(r"_(x86_64|aarch64)\.whl$", w.name)[1] for w in wheels} == set(ELF_MACHINE), wheels  # type: ignore[index]
    for wheel in wheels:
        check_wheel(wheel)
    (sdist,) = dist.glob("httpqq-*.tar.gz")
    check_sdist(sdist)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
