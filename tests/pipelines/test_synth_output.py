"""Files look the way departments send them, follow the catalogue and repeat for a seed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from demo.catalog import RESOURCES, parse_item
from demo.synth import (
    DEFAULT_MOUNTS,
    FORMATS,
    InvalidSynthOption,
    SynthOptions,
    SynthOutputError,
    read_manifest,
    synthesise,
)
from demo.synth.readback import read_rows
from govshare.commands.synth import FORMATS as CLI_FORMATS
from govshare.commands.synth import register

Run = tuple[Path, dict[str, Any]]


def _run(out: Path, **options: Any) -> Run:
    synthesise(SynthOptions(out=out, **{"scale": 1000, "seed": 9, **options}))
    return out, read_manifest(out / "manifest.json")


@pytest.fixture(scope="module")
def every_mount(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(tmp_path_factory.mktemp("synth-all"), resources=("all",), defect_rate=0.05)


def _catalogue_names(mount: str) -> list[str]:
    resource = next(r for r in RESOURCES if r.mount == mount)
    return [parse_item(spec).name for spec in resource.items]


def test_headers_are_the_catalogue_item_names_in_every_format(every_mount: Run) -> None:
    out, manifest = every_mount
    mounts = {f["mount"] for f in manifest["files"]}
    assert mounts == {r.mount for r in RESOURCES if r.mount}
    assert {f["format"] for f in manifest["files"]} == {"csv", "xlsx", "jsonl", "parquet"}
    for entry in manifest["files"]:
        header, rows = read_rows(out, entry)
        assert header == entry["columns"] == entry["items"] == _catalogue_names(entry["mount"])
        assert len(rows) == entry["rows"] > 0
        assert (out / entry["path"]).parent.name == entry["mount"]
        assert entry["path"].endswith(f"{entry['mount']}_20260301.{entry['format']}")
        if entry["format"] == "jsonl":
            first = json.loads((out / entry["path"]).read_text(encoding="utf-8").splitlines()[0])
            assert list(first) == entry["items"]


def test_gb18030_files_decode_strictly_as_gb18030_and_not_as_utf8(every_mount: Run) -> None:
    out, manifest = every_mount
    gb = [f for f in manifest["files"] if f["encoding"] == "gb18030"]
    assert {f["mount"] for f in gb} >= {"sw_tax_credit", "rs_person_contributions"}
    for entry in gb:
        raw = (out / entry["path"]).read_bytes()
        text = raw.decode("gb18030", errors="strict")
        assert text.startswith(entry["columns"][0]) and "\r\n" in text
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8", errors="strict")
    bom = next(f for f in manifest["files"] if f["mount"] == "scjg_abnormal")
    assert bom["encoding"] == "utf-8-sig"
    assert (out / bom["path"]).read_bytes().startswith(b"\xef\xbb\xbf")


def test_xlsx_opens_in_openpyxl_with_the_catalogue_header(every_mount: Run) -> None:
    out, manifest = every_mount
    entry = next(f for f in manifest["files"] if f["mount"] == "scjg_penalties")
    book = load_workbook(out / entry["path"], read_only=True)
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == _catalogue_names("scjg_penalties")
    assert sheet.title == "市场监管行政处罚信息"
    amounts = [r[3] for r in rows[1:] if r[3] is not None]
    assert any(isinstance(a, int | float) for a in amounts)  # amounts are numeric cells
    book.close()


def test_big_xlsx_extracts_continue_on_further_sheets(tmp_path: Path) -> None:
    out, manifest = _run(
        tmp_path, resources=("ga_population",), format="xlsx", defect_rate=0.0, xlsx_sheet_rows=300
    )
    entry = manifest["files"][0]
    assert [s["rows"] for s in entry["sheets"]] == [300, 300, 300, 100]
    assert [s["first_row"] for s in entry["sheets"]] == [1, 301, 601, 901]
    header, rows = read_rows(out, entry)
    assert header == _catalogue_names("ga_population") and len(rows) == 1000


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    options = {"resources": ("all",), "defect_rate": 0.05, "drift": True}
    first_out, first = _run(tmp_path / "a", **options)
    second_out, second = _run(tmp_path / "b", **options)
    assert (first_out / "manifest.json").read_bytes() == (second_out / "manifest.json").read_bytes()
    for a, b in zip(first["files"], second["files"], strict=True):
        if a["format"] == "parquet":
            assert pq.read_table(first_out / a["path"]).equals(
                pq.read_table(second_out / b["path"])
            )
        else:  # CSV, JSON lines and XLSX (fixed zip timestamps)
            assert (first_out / a["path"]).read_bytes() == (second_out / b["path"]).read_bytes()
    _other_out, other = _run(tmp_path / "c", **{**options, "seed": 10})
    assert [f["sha256"] for f in other["files"]] != [f["sha256"] for f in first["files"]]


def test_drift_renames_a_column_and_adds_one_in_one_file_only(tmp_path: Path) -> None:
    out, manifest = _run(tmp_path, drift=True, defect_rate=0.0)
    drifted = [f for f in manifest["files"] if f["drift"]]
    assert len(drifted) == 1
    entry = drifted[0]
    assert entry["mount"] == "scjg_enterprise_registration"
    assert entry["drift"] == {"renamed": {"法定代表人": "法人代表"}, "extra": ["备注"]}
    header, _rows = read_rows(out, entry)
    assert header == [
        "法人代表" if n == "法定代表人" else n for n in _catalogue_names(entry["mount"])
    ] + ["备注"]
    for other in manifest["files"]:
        if other is not entry:
            assert read_rows(out, other)[0] == _catalogue_names(other["mount"])


def test_format_override_applies_to_every_file(tmp_path: Path) -> None:
    out, manifest = _run(
        tmp_path,
        format="parquet",
        resources=("sw_tax_credit", "000005001/000001"),  # a mount and a resource code
        defect_rate=0.0,
    )
    assert [(f["mount"], f["format"], f["encoding"]) for f in manifest["files"]] == [
        ("sw_tax_credit", "parquet", None),
        ("mz_marriage", "parquet", None),
    ]
    assert all((out / f["path"]).suffix == ".parquet" for f in manifest["files"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scale": 999}, "--scale"),
        ({"scale": 10_000_001}, "--scale"),
        ({"defect_rate": 1.5}, "--defect-rate"),
        ({"seed": -1}, "--seed"),
        ({"format": "xls"}, "--format"),
        ({"resources": ("scjg_nothing",)}, "未知的挂接库表"),
    ],
    ids=["scale-too-small", "scale-too-big", "rate", "seed", "format", "resource"],
)
def test_bad_options_are_refused_with_a_bilingual_reason(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidSynthOption) as error:
        synthesise(SynthOptions(out=tmp_path, **options))
    assert message in error.value.message
    assert not list(tmp_path.iterdir())


def test_small_scales_need_an_explicit_minimum_and_files_are_not_folders(tmp_path: Path) -> None:
    _out, manifest = _run(tmp_path / "tiny", scale=200, min_scale=100, resources=("ga_population",))
    assert manifest["persons"] == 200 and manifest["enterprises"] == 100
    target = tmp_path / "a-file"
    target.write_text("x")
    with pytest.raises(SynthOutputError):
        synthesise(SynthOptions(out=target, scale=1000))


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """govshare."""

    register(app)
    return app


def test_cli_writes_files_and_prints_summary_or_manifest(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["synth", "--scale", "1000", "--seed", "3", "--out", str(tmp_path)]
    result = runner.invoke(_cli(), [*args, "--resources", "ga_population,sw_tax_credit"])
    assert result.exit_code == 0, result.output
    assert "ga_population" in result.stdout and "行/秒" in result.stdout
    result = runner.invoke(_cli(), [*args, "--defect-rate", "0", "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert [f["mount"] for f in manifest["files"]] == list(DEFAULT_MOUNTS)
    assert manifest["totals"]["rejectable"] == 0


def test_cli_explains_bad_arguments(tmp_path: Path) -> None:
    result = CliRunner().invoke(_cli(), ["synth", "--scale", "10", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "1,000" in result.stderr and "scale must be between" in result.stderr
    result = CliRunner().invoke(
        _cli(), ["synth", "--batch-date", "2026-13-01", "--out", str(tmp_path)]
    )
    assert result.exit_code == 1 and "--batch-date" in result.stderr


def test_cli_offers_the_formats_the_generator_writes() -> None:
    assert CLI_FORMATS == FORMATS
