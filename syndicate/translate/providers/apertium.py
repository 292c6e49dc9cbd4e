"""Apertium: the local, offline, rule-based engine from the system's packages.

This module owns finding installed pairs (``apertium -l``, once per
process), mapping BCP 47 tags to apertium modes, the cache key (package
versions of the pair and the mode) and running one apertium process per
batch.

Batching: every segment of one ``translate_batch`` call goes through ONE
process (start-up alone costs ~0.2 s).  ``apertium -z`` (null-flush) does
not work for this: in txt format ``apertium-destxt`` drops the ``\\0``
separators, so the output comes back as one run.  A blank line does work:
the txt deformatter keeps it as a block boundary (and a sentence end), so
units never merge or reorder across it.  Segments are therefore sent one
line per unit, units separated by ``\\n\\n``; a segment's own newlines split
it into several units and are put back afterwards.  If the number of units
that come back differs from the number sent, the whole batch fails
(``None`` each) rather than risk a misaligned translation.

Unknown words: apertium runs WITHOUT ``-u``, so its output marks the words
it could not translate (``*word`` unknown to the analyser, ``@word`` not in
the bilingual dictionary, ``#word`` not generated).  ``translate_batch``
returns that marked text (``marks_unknown = True``); the translation stage
counts the marks, strips them (:func:`~syndicate.translate.validate.strip_unknown_marks`)
and refuses an article whose unknown-word share is over
``translation.max_unknown``.  (With ``-u`` the same words were published as
untranslated English inside the "translation".)

Honest tags: the Serbo-Croatian modes write Latin script, so a requested
``sr`` is published as ``sr-Latn`` (:meth:`ApertiumTranslator.output_tag`);
``hr`` and ``bs`` are Latin script by default and keep their tags.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from syndicate.translate.base import ISO639_3, parse_tag

log = logging.getLogger("syndicate")

# BCP 47 (language, language) -> mode, for the pairs Debian packages.
PAIRS: dict[tuple[str, str], str] = {
    ("en", "es"): "eng-spa",
    ("en", "ca"): "eng-cat",
    ("en", "gl"): "en-gl",
    ("en", "eo"): "en-eo",
    ("en", "hr"): "eng-hbs_HR",
    ("en", "sr"): "eng-hbs_SR",  # Latin script output
    ("en", "bs"): "eng-hbs_BS",
    ("es", "en"): "spa-eng",
    ("ca", "en"): "cat-eng",
    ("gl", "en"): "gl-en",
    ("eo", "en"): "eo-en",
    ("hr", "en"): "hbs-eng",
    ("sr", "en"): "hbs-eng",
    ("bs", "en"): "hbs-eng",
}
_LATIN_ONLY = {"eng-hbs_HR", "eng-hbs_SR", "eng-hbs_BS"}  # a Cyrillic target tag is refused
# Languages whose default script is not the one these modes write: the tag gets the script.
_SCRIPT_OF_OUTPUT = {"sr": "Latn"}
_ENGINE_PACKAGES = ("apertium", "lttoolbox", "apertium-lex-tools", "apertium-separable", "apertium-anaphora")
_PROCESSING_VERSION = "2"  # bump when the pre/post-processing here changes output
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")
SECONDS_PER_CHAR = 1 / 10_000  # generous: apertium does 30-40 kB/s on one core


@dataclass(frozen=True, slots=True)
class _Line:
    lead: str
    trail: str
    unit: int | None  # index of the unit sent, None for a blank line


class ApertiumTranslator:
    """The ``apertium`` provider (see :class:`~syndicate.translate.base.Translator`)."""

    name = "apertium"
    display_name = "Apertium"
    max_chars = 1_000_000  # no engine limit; one process takes the whole batch
    marks_unknown = True  # output keeps apertium's */@/# marks; the stage counts and strips them
    deterministic = True  # local, versioned: the same input gives the same answer (and the same refusal)

    def __init__(self, timeout: float = 20.0, executable: str = "apertium") -> None:
        self.timeout = timeout
        self.executable = executable
        self.calls = 0

    # ------------------------------------------------------------ metadata

    def modes(self) -> tuple[str, ...]:
        path = shutil.which(self.executable)
        return installed_modes(path) if path else ()

    def mode_for(self, source: str, target: str) -> str | None:
        """The installed mode for a pair, or ``None``."""
        installed = set(self.modes())
        return next((m for m in candidate_modes(source, target) if m in installed), None)

    def supports(self, source: str, target: str) -> bool:
        return self.mode_for(source, target) is not None

    def refusal(self, source: str, target: str) -> str | None:
        """Why the pair cannot be translated here (a script the modes do not write, no pair), or None."""
        if self.supports(source, target):
            return None
        src, tgt = parse_tag(source), parse_tag(target)
        mode = PAIRS.get((src.language, tgt.language))
        if mode in _LATIN_ONLY and mode in self.modes() and tgt.script not in (None, "Latn"):
            return f"apertium writes {tgt.language} in Latn script only, not {tgt.script}"
        return f"no installed apertium pair for {source}->{target} (see `syndicate providers`)"

    def available(self) -> tuple[bool, str]:
        if shutil.which(self.executable) is None:
            return False, "apertium is not installed (Debian: apt install apertium apertium-eng-spa ...)"
        pairs = self.language_pairs()
        if not pairs:
            return False, "apertium has no language pairs installed"
        return True, f"{len(pairs)} language pairs installed"

    def output_tag(self, target: str) -> str:
        """The tag of what the engine really writes for ``target`` (``sr`` -> ``sr-Latn``)."""
        parts = parse_tag(target)
        script = _SCRIPT_OF_OUTPUT.get(parts.language)
        if script is None or parts.script is not None:
            return target
        rest = [p for p in (parts.region, *parts.variants) if p]
        return "-".join([parts.language, script, *rest])

    def language_pairs(self) -> tuple[tuple[str, str], ...]:
        """BCP 47 pairs that resolve to an installed mode, targets tagged as written (``sr-Latn``)."""
        installed = set(self.modes())
        pairs = {(source, self.output_tag(target)) for (source, target), mode in PAIRS.items() if mode in installed}
        by_code = {code: short for short, code in ISO639_3.items()} | {s: s for s in ISO639_3}
        for mode in installed:
            source, _, target = mode.partition("-")
            if source in by_code and target in by_code:
                pairs.add((by_code[source], by_code[target]))
        return tuple(sorted(pairs))

    def cache_key(self) -> str:
        """Engine and all installed pairs' versions (see :meth:`pair_cache_key` for one pair)."""
        versions = package_versions()
        digest = _digest([_PROCESSING_VERSION, *sorted(versions.items()), *self.modes()])
        return f"apertium:{digest}"

    def pair_cache_key(self, source: str, target: str) -> str:
        """Mode, the pair's package version (or data file stamps) and the engine's versions."""
        mode = self.mode_for(source, target)
        if mode is None:
            return f"apertium:unsupported:{source}-{target}"
        return f"apertium:{mode}:{_mode_version(mode)}"

    # ------------------------------------------------------------ translation

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str | None]:
        """All texts through one apertium process; ``None`` each if the batch fails."""
        if not texts:
            return []
        mode = self.mode_for(source, target)
        if mode is None:
            log.warning("apertium has no installed pair for %s->%s", source, target)
            return [None] * len(texts)
        units, layouts = _prepare(texts)
        outputs = self._run(mode, units) if units else []
        if outputs is None:
            return [None] * len(texts)
        cleaned = [_clean(unit, out) for unit, out in zip(units, outputs, strict=True)]
        return [_assemble(layout, cleaned) for layout in layouts]

    def _run(self, mode: str, units: Sequence[str]) -> list[str] | None:
        payload = "\n\n".join(units) + "\n"
        timeout = self.timeout + len(payload) * SECONDS_PER_CHAR
        self.calls += 1
        try:
            out = _run_process([self.executable, mode], payload, timeout)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            log.warning("apertium %s failed: %s", mode, exc)
            return None
        if out.endswith("\n"):
            out = out[:-1]
        parts = out.split("\n\n")
        if len(parts) != len(units):
            log.warning("apertium %s returned %d segments for %d sent; batch dropped", mode, len(parts), len(units))
            return None
        return parts


# --------------------------------------------------------------------------- modes


def candidate_modes(source: str, target: str) -> list[str]:
    """Modes to try for a pair, best first (explicit table, then ``src-tgt`` in 639-1/639-3)."""
    src, tgt = parse_tag(source), parse_tag(target)
    bases: list[str] = []
    explicit = PAIRS.get((src.language, tgt.language))
    if explicit and not (explicit in _LATIN_ONLY and tgt.script not in (None, "Latn")):
        bases.append(explicit)
    for a in (src.language, ISO639_3.get(src.language)):
        for b in (tgt.language, ISO639_3.get(tgt.language)):
            if a and b and not tgt.script:
                bases.append(f"{a}-{b}")
    suffixes = [*tgt.variants, *([tgt.region] if tgt.region else [])]
    result: list[str] = []
    for base in bases:
        result.extend(f"{base}_{s}" for s in suffixes if "_" not in base)  # spa-eng_US, eng-cat_valencia
        result.append(base)
    return list(dict.fromkeys(result))


@functools.cache
def installed_modes(executable: str) -> tuple[str, ...]:
    """``apertium -l`` (once per process and executable; kept across runs while the executable and
    the modes directory keep their stat: :func:`syndicate.incremental.stamped`)."""
    from syndicate.incremental import stamped

    where = [os.path.realpath(executable), str(_datadir() / "modes")]
    return tuple(stamped(f"apertium -l {where}", where, lambda: list(_list_modes(executable))))


def _list_modes(executable: str) -> tuple[str, ...]:
    try:
        done = subprocess.run(
            [executable, "-l"], capture_output=True, text=True, timeout=20, env=_environment(), check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("cannot list apertium pairs: %s", exc)
        return ()
    return tuple(line.strip() for line in done.stdout.splitlines() if line.strip())


@functools.cache
def package_versions() -> dict[str, str]:
    """Installed apertium-related Debian packages -> version (empty off Debian; kept across runs
    while dpkg's status file keeps its stat: :func:`syndicate.incremental.stamped`)."""
    from syndicate.incremental import stamped

    where = [shutil.which("dpkg-query") or "dpkg-query", "/var/lib/dpkg/status"]
    return dict(stamped(f"dpkg-query apertium {where}", where, _package_versions))


def _package_versions() -> dict[str, str]:
    if shutil.which("dpkg-query") is None:
        return {}
    patterns = [*_ENGINE_PACKAGES, "apertium-*"]
    try:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n", *patterns],
            capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {}
    versions: dict[str, str] = {}
    for line in done.stdout.splitlines():
        package, _, rest = line.partition("\t")
        version, _, status = rest.partition("\t")
        if version and status.startswith("ii"):
            versions[package] = version
    return versions


@functools.cache
def _mode_version(mode: str) -> str:
    """The pair's package version and the engine's, or a digest of the data files' stamps."""
    mode_file = _datadir() / "modes" / f"{mode}.mode"
    try:
        text = mode_file.read_text(encoding="utf-8")
    except OSError:
        text = ""
    data_files = sorted(set(re.findall(r"'(/[^']+)'", text)))
    packages = sorted({Path(f).parent.name for f in data_files})
    versions = package_versions()
    known = [f"{p}={versions[p]}" for p in packages if p in versions]
    engine = [f"{p}={versions[p]}" for p in _ENGINE_PACKAGES if p in versions]
    if not known:  # not from packages: fall back to the data files' size and mtime
        known = [f"{f}:{_stamp(Path(f))}" for f in data_files]
    return _digest([_PROCESSING_VERSION, text, *known, *engine])


def _stamp(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return "missing"
    return f"{info.st_size}:{int(info.st_mtime)}"


def _datadir() -> Path:
    return Path(os.environ.get("APERTIUM_DATADIR", "/usr/share/apertium"))


def _digest(parts: Sequence[object]) -> str:
    return hashlib.sha256("\n".join(map(str, parts)).encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- process


def _environment() -> dict[str, str]:
    """The current environment without LC_ALL, so apertium's own UTF-8 LC_CTYPE applies."""
    return {k: v for k, v in os.environ.items() if k != "LC_ALL"}


def _run_process(command: list[str], payload: str, timeout: float) -> str:
    """Run a pipeline in its own process group; the whole group is killed on timeout."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environment(),
        start_new_session=True,
    )
    try:
        out, err = process.communicate(payload.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise subprocess.SubprocessError(f"no answer within {timeout:.1f} s") from None
    if process.returncode != 0:
        message = err.decode("utf-8", "replace").strip().splitlines()
        raise subprocess.SubprocessError(f"exit status {process.returncode}: {message[0] if message else ''}")
    return out.decode("utf-8", "replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.communicate()


# --------------------------------------------------------------------------- units


def _prepare(texts: Sequence[str]) -> tuple[list[str], list[list[_Line]]]:
    """Units to send (one per non-blank line) and, per text, how to rebuild it."""
    units: list[str] = []
    layouts: list[list[_Line]] = []
    for text in texts:
        layout: list[_Line] = []
        for line in text.replace("\r\n", "\n").split("\n"):
            flat = _CONTROL.sub(" ", line)
            core = flat.strip()
            lead, trail = flat[: len(flat) - len(flat.lstrip())], flat[len(flat.rstrip()) :]
            if core:
                layout.append(_Line(lead, trail, len(units)))
                units.append(core)
            else:
                layout.append(_Line(flat, "", None))
        layouts.append(layout)
    return units, layouts


def _clean(unit: str, output: str) -> str:
    """Collapse stray whitespace (the unknown-word marks stay: the stage counts them)."""
    return " ".join(output.split())


def _assemble(layout: Sequence[_Line], cleaned: Sequence[str]) -> str:
    return "\n".join(line.lead if line.unit is None else line.lead + cleaned[line.unit] + line.trail for line in layout)
