"""The `lrkit` command: every subcommand, round trips, and one-line errors for bad input."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.image
import numpy as np
import pytest
import yaml

import lrkit
from lrkit import cli
from lrkit.cli import main
from lrkit.spec import parse

WARMUP = "warmup(cosine(start_lr=0.1, decay_steps=90), steps=10)"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("command", [[], ["plot"], ["show"], ["list"], ["convert"]])
def test_help_on_every_subcommand(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    status, out, _ = run(capsys, *command, "--help")
    assert status == 0
    assert out.startswith(f"usage: lrkit {' '.join(command)}".rstrip())
    if not command:
        for name in ("plot", "show", "list", "convert"):
            assert f"    {name} " in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert (status, out.strip()) == (0, f"lrkit {lrkit.__version__}")


# -- plot --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["png", "svg", "pdf"])
def test_plot_writes_files_that_open(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"chart.{suffix}"
    status, stdout, err = run(
        capsys, "plot", WARMUP, "step(0.1, 30)", "--epochs", "100", "--log", "-o", str(out)
    )
    assert (status, err) == (0, "")
    assert stdout.strip() == f"wrote {out}"
    data = out.read_bytes()
    if suffix == "png":
        pixels = matplotlib.image.imread(out)
        assert pixels.shape[:2] == (675, 1200)
        rgb = pixels[..., :3].reshape(-1, 3)
        assert len(np.unique(rgb, axis=0)) > 50
        assert (rgb.min(axis=1) < 0.5).mean() > 0.005
    elif suffix == "svg":
        assert b"<svg" in data and data.rstrip().endswith(b"</svg>")
    else:
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")


def test_plot_labels_and_steps_from_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "s.yaml"
    lrkit.save(lrkit.one_cycle_policy(max_lr=0.1, total_steps=1000), config)
    out = tmp_path / "c.png"
    status, _, err = run(
        capsys,
        "plot",
        str(config),
        WARMUP,
        "--steps",
        "1000",
        "--label",
        "1cycle",
        "--label",
        "warmup",
        "--title",
        "t",
        "-o",
        str(out),
    )
    assert (status, err) == (0, "")
    assert out.stat().st_size > 10_000


def test_plot_without_output_and_display_writes_the_default_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "plot", WARMUP, "--epochs", "20")
    assert status == 0 and out.strip() == "wrote lrkit-plot.png"
    assert (tmp_path / "lrkit-plot.png").exists()


def test_plot_size_dpi_update_and_steps_per_epoch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "c.png"
    argv = ["plot", WARMUP, "one_cycle_policy(0.1, 5)", "--epochs", "5", "--steps-per-epoch", "391"]
    status, _, err = run(capsys, *argv, "--size", "6x3", "--dpi", "80", "-o", str(out))
    assert (status, err) == (0, "")
    assert matplotlib.image.imread(out).shape[:2] == (240, 480)
    status, _, err = run(
        capsys, "plot", WARMUP, "--epochs", "20", "--update", "epoch", "-o", str(out)
    )
    assert (status, err) == (0, "")


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "cosine(0.1, 1e20)"],
        ["show", "cosine(0.1, 1e308)", "--steps", "1e15"],
        ["plot", "cosine(0.1,1e308)", "-o", "x.png"],
        ["plot", "cosine(0.1, 1e20)", "--steps", "1e15", "-o", "x.svg"],
        ["plot", "cosine(0.1, 10)", "--title", "$\\foo$", "--label", "a $x^$ b", "-o", "x.png"],
    ],
)
def test_extreme_but_valid_input_works(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, *argv)
    assert (status, err) == (0, "")
    if argv[0] == "plot":
        assert (tmp_path / argv[-1]).stat().st_size > 1000
    else:
        assert "holds " in out and "phase boundary" not in out


# -- show --------------------------------------------------------------------------------


def test_show_contains_the_boundary_values(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "show", WARMUP, "--epochs", "100")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == parse(WARMUP).spec()
    assert "phase boundaries at 10" in lines[1]
    table_lines = out.split("\n\n")[-1].splitlines()
    assert table_lines[0].split() == ["epoch", "learning", "rate", "note"]
    table = {int(line.split()[0]): line.split()[1] for line in table_lines[1:]}
    # independent formulas: linear 0 -> 0.1 over 10 epochs, then cosine 0.1 -> 0 over 90
    assert table[9] == f"{0.09:.6g}"
    assert table[10] == f"{0.1:.6g}"
    assert table[99] == f"{0.05 * (1 + math.cos(math.pi * 89 / 90)):.6g}"
    assert "*" in out and "+" + "-" * 64 in out


def test_show_and_plot_a_cooldown_from_any_step(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = "cooldown(constant(0.1), at=50, length=20)"
    status, out, err = run(capsys, "show", spec, "--epochs", "80")
    assert (status, err) == (0, "")
    assert "phase boundaries at 50; holds 0 from 70 on" in out
    rows = [line.split() for line in out.split("\n\n")[-1].splitlines()[1:]]
    values = {int(r[0]): float(r[1]) for r in rows}
    assert values[49] == 0.1 and values[50] == 0.1  # the constant's rate, then 1-sqrt from it
    assert values[79] == 0.0
    listed = run(capsys, "list", "cooldown")[1]
    assert listed.startswith("cooldown(schedule, at, length, shape='1-sqrt'")
    chart = tmp_path / "cooldown.png"
    status, _, err = run(capsys, "plot", spec, "--epochs", "80", "-o", str(chart))
    assert (status, err) == (0, "")
    assert chart.stat().st_size > 10_000


def test_show_steps_and_many_boundaries(capsys: pytest.CaptureFixture[str]) -> None:
    spec = "piecewise_constant([100, 200, 300], [0.1, 0.05, 0.02, 0.01])"
    status, out, _ = run(capsys, "show", spec, "--steps", "400", "--width", "40", "--height", "5")
    assert status == 0
    assert "steps 0 .. 399; phase boundaries at 100, 200, 300; holds 0.01 from 300 on" in out
    rows = [line.split() for line in out.split("\n\n")[-1].splitlines()[1:]]
    values = {int(r[0]): float(r[1]) for r in rows}
    assert values[99] == 0.1 and values[100] == 0.05 and values[299] == 0.02
    assert values[300] == 0.01


def test_show_never_settling(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "show", "time_based_decay(0.001, 0.1)")
    assert status == 0 and "epochs 0 .. 99; never settles" in out


def test_show_several_schedules(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "show", WARMUP, "multistep(0.1, [30])", "--epochs", "1e2")
    assert (status, err) == (0, "")
    assert out.count("epochs 0 .. 99") == 2
    first, second = out.split("\n\nmultistep(start_lr=0.1, milestones=[30])\n")
    assert first.startswith(parse(WARMUP).spec())
    rows = {
        int(r.split()[0]): float(r.split()[1]) for r in second.split("\n\n")[-1].splitlines()[1:]
    }
    assert rows[29] == 0.1 and rows[30] == pytest.approx(0.01)  # independent: 0.1 * 0.1


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_show_exports_every_value(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    status, out, err = run(
        capsys, "show", WARMUP, "step(0.1, 30)", "--epochs", "100", "--format", fmt
    )
    assert (status, err) == (0, "")
    labels = [parse(WARMUP).spec(), "step(start_lr=0.1, step_size=30)"]
    if fmt == "csv":
        table = list(csv.reader(io.StringIO(out)))
        assert table[0] == ["epoch", *labels]
        times = [int(r[0]) for r in table[1:]]
        warm = [float(r[1]) for r in table[1:]]
        step = [float(r[2]) for r in table[1:]]
    else:
        data = json.loads(out)
        assert data["unit"] == "epoch" and [s["schedule"] for s in data["schedules"]] == labels
        times = data["times"]
        warm, step = (s["rates"] for s in data["schedules"])
    assert times == list(range(100))
    # independent formulas: linear 0 -> 0.1 over 10 epochs then cosine over 90; x0.1 every 30
    expected = [
        0.01 * t if t < 10 else 0.05 * (1 + math.cos(math.pi * (t - 10) / 90)) for t in times
    ]
    assert warm == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert step == pytest.approx([0.1 * 0.1 ** (t // 30) for t in times], rel=1e-12)


def test_show_export_every_k_and_steps(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "show", "cosine(0.1, 1e20)", "--steps", "1e15", "--every", "1e10", "--format", "csv"
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert status == 0 and rows[0][0] == "step" and len(rows) == 1 + 100_000
    assert rows[-1][0] == str(10**15 - 10**10) and float(rows[1][1]) == 0.1


@pytest.mark.parametrize("text", ["1e3", "1000", "1_000", "1000.0", "1E3"])
def test_numbers_as_people_type_them(capsys: pytest.CaptureFixture[str], text: str) -> None:
    status, out, _ = run(capsys, "show", WARMUP, "--epochs", text)
    assert status == 0 and "epochs 0 .. 999;" in out


# -- list --------------------------------------------------------------------------------


def test_list_shows_every_entry(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "list")
    assert status == 0
    for name, cls in lrkit.REGISTRY.items():
        assert f"  {cli.signature(cls)}\n" in out, name
    assert "  cosine(start_lr, decay_steps, end_lr=0.0, exponent=1.0)\n" in out
    assert "``" not in out and ":class:" not in out
    assert "$" not in out and "\\" not in out  # formulas in plain text
    assert 'The seed\'s "Time-based Decay": η₀ / (1 + k t).' in out
    seed = out.split("The catalogue:")[0]
    assert "one_cycle(" in seed and "onecycle(" not in seed


def test_list_one_entry(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "list", "cosine")
    assert status == 0
    assert out.startswith("cosine(start_lr, decay_steps, end_lr=0.0, exponent=1.0)\n")
    assert ">>> s = lrkit.cosine(" in out
    assert "    η(t) = η₁ + (η₀ - η₁)[1/2(1 + cos((π min(t, T))/T))]^k\n" in out


@pytest.mark.parametrize("name", sorted(lrkit.REGISTRY))
def test_list_prints_formulas_as_plain_text(capsys: pytest.CaptureFixture[str], name: str) -> None:
    status, out, _ = run(capsys, "list", name)
    assert status == 0
    assert "$" not in out and not re.search(r"\\[A-Za-z(\[]", out), out  # no LaTeX left


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"\eta_0 / (1 + k t)", "η₀ / (1 + k t)"),
        (r"\frac{\eta_0}{1 + k\,t}", "η₀/(1 + k t)"),
        (r"\eta_0\, \gamma^{\lfloor t / P \rfloor}", "η₀ γ^(⌊ t / P ⌋)"),
        (r"\begin{cases} a & t < R \\ b & t \ge R \end{cases}", "a if t < R; b if t ≥ R"),
        (r"\sqrt{x}\,\tfrac12 \operatorname{tri}(t) \eta_{max}", "√x 1/2 tri(t) η_max"),
    ],
)
def test_plain_math(tex: str, text: str) -> None:
    assert cli.plain_math(tex) == text


# -- convert -----------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["json", "yaml", "spec"])
def test_convert_round_trips_through_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, target: str
) -> None:
    s = parse(WARMUP) >> lrkit.constant(0.001)
    suffix = {"json": ".json", "yaml": ".yaml", "spec": ".txt"}[target]
    path = tmp_path / f"schedule{suffix}"
    status, _, _ = run(capsys, "convert", s.spec(), "-o", str(path), "--to", target)
    assert status == 0
    text = path.read_text()
    if target == "json":
        assert lrkit.from_config(json.loads(text)) == s
    elif target == "yaml":
        assert lrkit.from_config(yaml.safe_load(text)) == s
    status, out, _ = run(capsys, "convert", str(path))  # back to the text form
    assert status == 0 and out == s.spec() + "\n"
    assert parse(out) == s


def test_convert_target_from_the_output_suffix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "convert", WARMUP, "-o", str(tmp_path / "a.yml"))
    assert yaml.safe_load((tmp_path / "a.yml").read_text())["name"] == "warmup"
    run(capsys, "convert", WARMUP, "-o", str(tmp_path / "a.py"))
    assert (tmp_path / "a.py").read_text().startswith("import lrkit\n")


def test_convert_to_python_builds_the_same_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    s = lrkit.Join([lrkit.linear(0.0, 5, end_lr=0.1), lrkit.cosine(0.1, 95)], [5]) * 0.5
    s = lrkit.clip(lrkit.shift(s, delay=2.5), min_lr=0.001)
    status, code, _ = run(capsys, "convert", s.spec(), "--to", "python")
    assert status == 0
    namespace: dict[str, Any] = {}
    exec(compile(code, "<converted>", "exec"), namespace)  # code our own converter wrote
    assert namespace["schedule"] == s


def test_convert_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = json.dumps(parse(WARMUP).to_config())
    monkeypatch.setattr(sys, "stdin", _Stdin(config))
    status, out, _ = run(capsys, "convert", "-")
    assert (status, out) == (0, parse(WARMUP).spec() + "\n")
    monkeypatch.setattr(sys, "stdin", _Stdin("cosine(\n  0.1,\n  100,\n)\n"))
    status, out, _ = run(capsys, "convert", "-", "--to", "json")
    assert status == 0 and json.loads(out) == lrkit.cosine(0.1, 100).to_config()


class _Stdin:
    def __init__(self, text: str) -> None:
        self.text = text

    def read(self, size: int = -1) -> str:
        return self.text if size < 0 else self.text[:size]


# -- bad input -----------------------------------------------------------------------------


def _bad_files(tmp: Path) -> dict[str, Path]:
    files = {
        "bad.json": '{"name": "cosine", "start_lr": 0.1',
        "bad.yaml": "name: [cosine\n",
        "unknown.json": '{"name": "cosinus", "start_lr": 0.1}',
        "badvalue.yaml": "name: cosine\nstart_lr: 0.1\ndecay_steps: -1\n",
        "list.json": "[1, 2]",
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "bad.txt": "cosine(0.1,",
        "binary.json": b"\xff\xfe\x00".decode("latin-1"),
        "big.yaml": "name: cosine\n" + "#" * (2 << 20) + "\n",
    }
    out = {}
    for name in ("zero.yaml", "zero"):
        (tmp / name).symlink_to("/dev/zero")
        out[name] = tmp / name
    for name, text in files.items():
        path = tmp / name
        path.write_text(text, encoding="latin-1" if name == "binary.json" else "utf-8")
        out[name] = path
    return out


BAD_INPUT = [
    (["show", "cosinus(0.1, 10)"], "unknown schedule 'cosinus'; did you mean 'cosine'?"),
    (["show", "cosine(0.1, decay_steps=0)"], "Argument `decay_steps` must be > 0"),
    (["plot", "cosine(0.1, 10", "-o", "x.png"], "expected ',' or ')'"),
    (["convert", "__import__('os').system('x')"], "unknown schedule '__import__'"),
    (["convert", "missing.yaml"], "cannot read missing.yaml: No such file or directory"),
    (["convert", "{bad.json}"], "is not valid JSON"),
    (["convert", "{bad.yaml}"], "is not valid YAML"),
    (["convert", "{unknown.json}"], "Unknown schedule name 'cosinus'"),
    (["convert", "{badvalue.yaml}"], "Argument `decay_steps` must be > 0"),
    (["convert", "{list.json}"], "must be a dict"),
    (["convert", "{deep.json}"], "nested too deeply"),
    (["convert", "{bad.txt}"], "expected a schedule"),
    (["convert", "{binary.json}"], "cannot read"),
    (["plot", WARMUP, "-o", "chart.jpg"], "must end in .png, .svg or .pdf"),
    (["plot", WARMUP, "-o", "no/such/dir/chart.png"], "cannot write no/such/dir/chart.png"),
    (["plot", WARMUP, "--label", "a", "--label", "b", "-o", "x.png"], "one per SPEC"),
    (["convert", WARMUP, "-o", "no/such/dir/a.json"], "cannot write"),
    (["list", "cosin"], "unknown schedule 'cosin'; did you mean 'cosine'?"),
    (["show", WARMUP, "--width", "3"], "--width from 8 to 1000"),
    (["show", WARMUP, "--width", "1e9"], "--width from 8 to 1000"),
    (["show", WARMUP, "--height", "100000"], "--height from 3 to 1000"),
    (["show", WARMUP, "--steps", "1e15", "--format", "csv"], "more than 1,000,000"),
    (["show", "{zero.yaml}"], "not a regular file"),
    (["show", "{big.yaml}"], "is larger than 1 MiB"),
    (["show", "{zero}"], "not a regular file"),
    (["convert", "-"], "is larger than 1 MiB"),
    (["convert", WARMUP, "-o", "out.toml"], "cannot tell the form to write from 'out.toml'"),
    (["convert", WARMUP, "-o", "out.json", "--to", "yaml"], "names json but --to says yaml"),
    (["convert", WARMUP, "-o", "out.yml", "--to", "spec"], "names yaml but --to says spec"),
    (["plot", WARMUP, "--steps", "9", "--steps-per-epoch", "3", "-o", "x.png"], "goes with"),
    (["plot", WARMUP, "--steps", "9", "--update", "epoch", "-o", "x.png"], "in epochs"),
    (["plot", WARMUP, "--size", "100x100", "--dpi", "1000", "-o", "x.png"], "more than 16,000"),
    (["show", "cosine_restarts(0.1, 10, t_mul=1e200)"], "the schedule overflows"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUT)
def test_bad_input_gives_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    files = _bad_files(tmp_path)
    argv = [str(files[a[1:-1]]) if a.startswith("{") and a[1:-1] in files else a for a in argv]
    with open("/dev/zero" if argv[-1] == "-" else os.devnull) as stdin:  # endless for "-"
        monkeypatch.setattr(sys, "stdin", stdin)
        status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"lrkit {argv[0]}: error: ")
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["plot"],
        ["show", WARMUP, "--epochs", "0"],
        ["show", WARMUP, "--epochs", "ten"],
        ["show", WARMUP, "--epochs", "1.5"],
        ["show", WARMUP, "--epochs", "1e400"],
        ["show", WARMUP, "--epochs", "nan"],
        ["show", WARMUP, "--epochs", "1e16"],
        ["show", WARMUP, "--format", "xml"],
        ["plot", WARMUP, "--size", "8"],
        ["plot", WARMUP, "--size", "0x4"],
        ["plot", WARMUP, "--dpi", "1e5"],
        ["plot", WARMUP, "--update", "batch"],
        ["show", WARMUP, "--epochs", "5", "--steps", "5"],
        ["convert", WARMUP, "--to", "toml"],
        ["nosuchcommand"],
        [],
    ],
)
def test_usage_errors_give_status_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert err.splitlines()[-1].startswith("lrkit")
    assert "error:" in err.splitlines()[-1] and "Traceback" not in err


# -- the real command, in a new process ------------------------------------------------------


def test_python_dash_m_and_console_script(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "lrkit", "show", WARMUP, "--epochs", "20"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0 and "phase boundary" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "lrkit", "plot", "cosine(0.1, -1)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    script = Path(sys.executable).parent / "lrkit"
    if not script.exists():
        pytest.skip("the console script is installed by `pip install -e .`")
    listed = subprocess.run([str(script), "list"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "warmup_stable_decay(" in listed.stdout


def test_broken_pipe_is_quiet() -> None:
    code = "import sys; from lrkit.cli import main; sys.exit(main(['list']))"
    result = subprocess.run(
        f'{sys.executable} -c "{code}" | head -n 1',
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.startswith("The seed's five:")
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr


# -- extensions (how `lrkit demo` plugs in) ---------------------------------------------------


def test_an_extension_module_becomes_a_subcommand(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lrkit_test_ext.py").write_text(
        textwrap.dedent(
            """
            import sys

            def add_arguments(parser):
                parser.add_argument("--times", type=int, default=1)

            def run(args):
                from lrkit.cli import InputError
                if args.times < 0:
                    raise InputError("--times must be >= 0")
                print("hello " * args.times)
                return 3
            """
        )
    )
    (tmp_path / "lrkit_broken_ext.py").write_text("import lrkit_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(
        cli,
        "EXTENSIONS",
        {
            "hello": ("lrkit_test_ext", "say hello"),
            "broken": ("lrkit_broken_ext", "needs a missing package"),
            "absent": ("lrkit_not_installed_ext", "not installed"),
        },
    )
    status, out, _ = run(capsys, "--help")
    assert "hello" in out and "say hello" in out and "broken" in out and "absent" not in out
    assert "lrkit_test_ext" not in sys.modules  # listed without being imported
    assert run(capsys, "hello", "--times", "2")[:2] == (3, "hello hello \n")
    assert run(capsys, "hello", "--help")[1].startswith("usage: lrkit hello [-h] [--times TIMES]")
    status, _, err = run(capsys, "hello", "--times", "-1")
    assert status == 2 and err == "lrkit hello: error: --times must be >= 0\n"
    status, _, err = run(capsys, "broken")
    assert status == 1 and "No module named 'lrkit_no_such_dependency'" in err
    assert run(capsys, "absent")[0] == 2


def test_demo_is_registered_as_an_extension() -> None:
    module, help = cli.EXTENSIONS["demo"]
    assert module == "lrkit.demo.cli" and help
    parser = cli.build_parser()
    choices = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert ("demo" in choices) == cli._installed("lrkit.demo.cli")
