"""Command line: reproduce a draw outside the app, on the shared benchmark format.

    python -m lib.sortition draw INSTANCE_DIR --seed TEXT --out DIR [--algorithm leximin|goldilocks|legacy] [--panels M]
    python -m lib.sortition check INSTANCE_DIR
    python -m lib.sortition verify BUNDLE [--commitment HEX] [--public-number TEXT] [--receipt CODE]
                                          [--record FILE [--record-head HEX]]
    python -m lib.sortition verify-record RECORD [--head HEX]
    python -m lib.sortition replace BUNDLE --dropouts ID,ID --seed TEXT --out DIR [--exclude ID,ID]

Exit status: 0 success (verify: PASS); 1 bad input (a message naming the file, line and
column) or verify FAIL; 2 quotas that no panel can meet, with the explanation on stderr.
Never a traceback. ``verify`` imports only the standard library (no HiGHS, no numpy).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from typing import Any
from pathlib import Path

from lib.errors import run_command
from lib.sortition.audit.model import InputError
from lib.plaintext import count

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would exit with 2, which means "infeasible quotas" here
        raise InputError(f"{message} (see: {self.prog} --help)")


# --- reading an instance directory, with precise messages --------------------------------------


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            "file not found (an instance folder needs people.csv, categories.csv and instance.json)", file=str(path)
        ) from None
    except IsADirectoryError:
        raise InputError("is a folder, expected a file", file=str(path)) from None
    except OSError as e:
        raise InputError(f"cannot read the file ({e.strerror})", file=str(path)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte {e.start}); save the file as UTF-8 CSV", file=str(path), line=line
        ) from None


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of the non-blank rows of a CSV file, the header first."""
    text = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    out = []
    try:
        start = 1
        for row in reader:
            if any(c.strip() for c in row):
                out.append((start, row))
            start = reader.line_num + 1
    except csv.Error as e:
        raise InputError(f"not valid CSV ({e})", file=str(path), line=reader.line_num) from None
    if not out:
        raise InputError("the file is empty: it needs a header row", file=str(path))
    return out


def read_instance(directory: str | Path):
    """The ``Instance`` in ``directory`` (shared benchmark format), or ``InputError`` saying exactly what is wrong.

    Each file is checked in turn (instance.json, people.csv, categories.csv), then every value of a
    feature with quotas must have its row in categories.csv; ``load_instance`` then reads the folder."""
    from lib.sortition.audit.model import load_instance

    d = Path(directory)
    if not d.exists():
        raise InputError("folder not found", file=str(d))
    if not d.is_dir():
        raise InputError(
            "not a folder (expected a folder holding people.csv, categories.csv and instance.json)", file=str(d)
        )
    _check_meta(d / "instance.json")
    header, values, where_value = _check_people(d / "people.csv")
    listed = _check_categories(d / "categories.csv", header, values)
    _check_every_value_listed(d / "people.csv", values, where_value, listed)
    return load_instance(d)


def _check_meta(meta_path: Path) -> None:
    try:
        meta = json.loads(_decode(meta_path))
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON ({e.msg}, column {e.colno})", file=str(meta_path), line=e.lineno) from None
    if not isinstance(meta, dict):
        raise InputError('must be a JSON object such as {"name": "...", "panel_size": 20}', file=str(meta_path))
    k = meta.get("panel_size")
    if isinstance(k, str) and k.strip().isdigit():
        k = int(k)
    if "panel_size" not in meta:
        raise InputError('needs a "panel_size" entry: how many people the panel has', file=str(meta_path))
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise InputError(
            f'"panel_size" must be a whole number of at least 1, not {meta.get("panel_size")!r}', file=str(meta_path)
        )


def _check_people(people_path: Path) -> tuple[list[str], dict[str, set[str]], dict[tuple[str, str], int]]:
    """people.csv: (header, the values seen in each column, the first line of each (column, value))."""
    rows = _rows(people_path)
    hline, header = rows[0]
    header = [h.strip() for h in header]
    if header[0] != "id":
        raise InputError(f'the first column must be "id", not {header[0]!r}', file=str(people_path), line=hline)
    for i, h in enumerate(header):
        if not h:
            raise InputError(f"column {i + 1} of the header has no name", file=str(people_path), line=hline)
        if header.index(h) != i:
            raise InputError(f'two columns are called "{h}"', file=str(people_path), line=hline)
    values: dict[str, set[str]] = {h: set() for h in header[1:]}
    seen: dict[str, int] = {}
    where_value: dict[tuple[str, str], int] = {}
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise InputError(
                f"this row has {len(row)} cells but the header has {len(header)} columns ({', '.join(header)})",
                file=str(people_path),
                line=line,
            )
        pid = row[0].strip()
        if not pid:
            raise InputError('column "id": empty; every person needs an id', file=str(people_path), line=line)
        if pid in seen:
            raise InputError(
                f'column "id": {pid!r} is used twice (first on line {seen[pid]}); ids must be unique',
                file=str(people_path),
                line=line,
            )
        seen[pid] = line
        for h, cell in zip(header[1:], row[1:]):
            v = cell.strip()
            values[h].add(v)
            where_value.setdefault((h, v), line)
    return header, values, where_value


def _check_categories(cat_path: Path, header: list[str], values: dict[str, set[str]]) -> dict[tuple[str, str], int]:
    """categories.csv: the line of each listed (feature, value)."""
    crows = _rows(cat_path)
    chl, cheader = crows[0]
    cheader = [h.strip() for h in cheader]
    missing = [c for c in ("feature", "value", "min", "max") if c not in cheader]
    if missing:
        raise InputError(
            f"missing {'column' if len(missing) == 1 else 'columns'} {', '.join(missing)}: the header must be feature,value,min,max",
            file=str(cat_path),
            line=chl,
        )
    col = {c: cheader.index(c) for c in ("feature", "value", "min", "max")}
    listed: dict[tuple[str, str], int] = {}
    for line, row in crows[1:]:
        if len(row) != len(cheader):
            raise InputError(
                f"this row has {len(row)} cells but the header has {len(cheader)} columns",
                file=str(cat_path),
                line=line,
            )
        f, v = row[col["feature"]].strip(), row[col["value"]].strip()
        if not f:
            raise InputError('column "feature": empty', file=str(cat_path), line=line)
        if f not in values:
            cols = ", ".join(h for h in header[1:] if h != "household") or "none"
            raise InputError(
                f'column "feature": {f!r} is not a column of people.csv (its columns: {cols})',
                file=str(cat_path),
                line=line,
            )
        lo, hi = (_bound(row[col[c]].strip(), c, cat_path, line) for c in ("min", "max"))
        if lo > hi:
            raise InputError(
                f"{f} = {v}: the minimum ({lo}) is larger than the maximum ({hi})", file=str(cat_path), line=line
            )
        if (f, v) in listed:
            raise InputError(
                f"{f} = {v} is listed twice (first on line {listed[(f, v)]})", file=str(cat_path), line=line
            )
        listed[(f, v)] = line
    return listed


def _bound(cell: str, column: str, cat_path: Path, line: int) -> int:
    try:
        n = int(cell)
    except ValueError:
        raise InputError(f'column "{column}": {cell!r} is not a whole number', file=str(cat_path), line=line) from None
    if n < 0:
        raise InputError(f'column "{column}": {n} is negative', file=str(cat_path), line=line)
    return n


def _check_every_value_listed(
    people_path: Path,
    values: dict[str, set[str]],
    where_value: dict[tuple[str, str], int],
    listed: dict[tuple[str, str], int],
) -> None:
    """Every value of a feature that has quotas has its row in categories.csv."""
    for f in sorted({f for f, _ in listed}):
        for v in sorted(values[f]):
            if (f, v) not in listed:
                known = ", ".join(sorted(repr(x) for (g, x) in listed if g == f))
                if v == "":
                    raise InputError(
                        f'column "{f}": empty, but {f} has quotas (values: {known}); fill in the value',
                        file=str(people_path),
                        line=where_value[(f, v)],
                    )
                raise InputError(
                    f'column "{f}": {v!r} has no row in categories.csv (its values there: {known}); '
                    f"correct the value or add a row {f},{v},MIN,MAX to categories.csv",
                    file=str(people_path),
                    line=where_value[(f, v)],
                )


# --- output files --------------------------------------------------------------------------------


def _csv(path: Path, header, rows) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _out_dir(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder; choose a folder for the results", file=str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the folder ({e.strerror})", file=str(out)) from None
    return out


def _json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def _engine_options(args) -> dict[str, Any]:
    """The draw options both `draw` and `replace` take from the command line."""
    return {
        "algorithm": args.algorithm,
        "M": args.panels,
        "created": args.created,
        "relax": not args.strict,
        "time_limit": args.time_limit,
    }


def _infeasible(report, out: Path | None, base: dict) -> int:
    text = report.message() or "No panel can meet the quotas."
    print("The quotas cannot be met: " + text, file=sys.stderr)
    if out is not None:
        data = dict(
            base,
            feasible=False,
            diagnosis=list(report.diagnosis),
            relaxable=bool(report.relaxable),
            relaxation=[
                {
                    "feature": c.feature,
                    "value": c.value,
                    "old_min": c.old_min,
                    "old_max": c.old_max,
                    "new_min": c.new_min,
                    "new_max": c.new_max,
                    "change": c.describe(),
                }
                for c in report.relaxation
            ],
        )
        _json(out / "report.json", data)
    return EXIT_INFEASIBLE


# --- commands --------------------------------------------------------------------------------------


def cmd_check(args) -> int:
    from lib.sortition.feasibility import check_feasibility

    inst = read_instance(args.instance)
    report = check_feasibility(inst)
    if report.feasible:
        print(
            f"Feasible: panels of {inst.panel_size} from the {len(inst.people)} people can meet every one of the "
            f"{len(inst.quotas)} quotas."
        )
        return EXIT_OK
    print("Not feasible: no panel can meet all the quotas.", file=sys.stderr)
    for line in report.diagnosis:
        print("- " + line, file=sys.stderr)
    if report.relaxation:
        print("Proposed relaxation (`draw` applies it unless you pass --strict):", file=sys.stderr)
        for c in report.relaxation:
            print(f"  {c.feature},{c.value}: [{c.old_min}, {c.old_max}] -> [{c.new_min}, {c.new_max}]", file=sys.stderr)
    return EXIT_INFEASIBLE


def cmd_draw(args) -> int:
    from lib.sortition.audit.bundle import write_bundle
    from lib.sortition.feasibility import InfeasibleQuotas
    from lib.sortition.audit.ceremony import normalise_public_number
    from lib.sortition.prepare import prepare_lottery

    t0 = time.perf_counter()
    inst = read_instance(args.instance)
    number = normalise_public_number(args.seed)
    out = _out_dir(args.out)
    base = {
        "algorithm": args.algorithm,
        "instance": inst.name,
        "pool_size": len(inst.people),
        "panel_size": inst.panel_size,
    }
    try:
        prep = prepare_lottery(inst, **_engine_options(args))
    except InfeasibleQuotas as e:
        return _infeasible(e.report, out, base)
    draw = prep.draw(number)
    fl = prep.frozen
    _csv(out / "panel.csv", ["id"], ([pid] for pid in draw.panel))
    _csv(
        out / "probabilities.csv",
        ["id", "probability", "lottery_probability"],
        (
            [pid, repr(float(prep.probabilities[pid])), repr(float(prep.lottery_probabilities[pid]))]
            for pid in sorted(prep.probabilities)
        ),
    )
    _csv(out / "lottery.csv", ["panel", "id"], ([n, pid] for n, p in enumerate(fl.panels) for pid in p))
    digest = write_bundle(draw, out / "bundle.zip")
    report = dict(base, **prep.stats())
    report.update(
        seconds=round(time.perf_counter() - t0, 3),
        public_number=draw.public_number,
        panel_index=draw.index,
        draw_hash=draw.draw_hash,
        bundle_sha256=digest,
        panel=list(draw.panel),
    )
    _json(out / "report.json", report)
    lex = report.get("leximin") or {}
    gold = report.get("goldilocks") or {}
    if gold:
        print(
            f"Goldilocks (gamma {gold['gamma']:g}): largest chance {gold['max_probability']:.6f}, score "
            f"{gold['objective']:.6f} (proven at least {gold['objective_bound']:.6f})."
        )
    if gold and not lex.get("complete", True):
        print(
            "Warning: the time limit cut the optimiser short; the lottery is valid but its balance may be less "
            "good than the best possible (see the score and its proven bound above).",
            file=sys.stderr,
        )
    elif lex and not lex.get("complete", True):
        print(
            f"Warning: the time limit cut the optimiser short; the lottery is valid but may be less fair than the "
            f"best possible (the minimum chance may be up to {lex.get('gap', 0):.6f} lower).",
            file=sys.stderr,
        )
    if prep.relaxation:
        print(
            "Warning: no panel could meet the quotas as given, so the draw used the smallest relaxation:",
            file=sys.stderr,
        )
        for line in prep.diagnosis:
            print("- " + line, file=sys.stderr)
    print(f"Commitment {fl.commitment}; public number {draw.public_number!r} chose panel {draw.index} of {fl.M}.")
    print(f"Panel of {len(draw.panel)}: {', '.join(draw.panel)}")
    print(
        f"Minimum selection probability {report['min_probability']:.6f} ({args.algorithm}); wrote panel.csv, "
        f"probabilities.csv, lottery.csv, bundle.zip and report.json to {out}"
    )
    return EXIT_OK


def cmd_verify(args) -> int:
    from lib.sortition.audit.verify import verify_file

    res = verify_file(args.bundle, commitment=args.commitment, public_number=args.public_number, receipt=args.receipt)
    sys.stdout.write(res.report())
    ok = res.ok
    if args.record:
        rec = _check_record_file(
            args.record,
            head=args.record_head,
            commitment=res.info.get("commitment"),
            public_number=res.info.get("public_number"),
        )
        ok = ok and rec.ok
    return EXIT_OK if ok else EXIT_INPUT


def _check_record_file(path: str, **kw):
    from lib.sortition.audit.record import check_record

    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the file ({e.strerror})", file=path) from None
    res = check_record(data, **kw)
    print(f"\nThe public record ({path}): {count(len(res.events), 'event')}, head {res.head or '-'}")
    print(res.report())
    return res


def cmd_verify_record(args) -> int:
    res = _check_record_file(args.record, head=args.head)
    return EXIT_OK if res.ok else EXIT_INPUT


def _ids(text: str | None) -> list[str]:
    if not text:
        return []
    return [x.strip() for x in text.replace(";", ",").split(",") if x.strip()]


def cmd_replace(args) -> int:
    from lib.sortition.audit.ceremony import normalise_public_number
    from lib.sortition.feasibility import InfeasibleQuotas
    from lib.sortition.replacement import prepare_replacement

    t0 = time.perf_counter()
    try:
        data = Path(args.bundle).read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the file ({e.strerror})", file=args.bundle) from None
    dropouts = _ids(args.dropouts)
    if not dropouts:
        raise InputError("--dropouts needs at least one id (comma-separated)")
    number = normalise_public_number(args.seed)
    out = _out_dir(args.out)
    base = {"algorithm": args.algorithm, "kind": "replacement", "dropouts": dropouts}
    try:
        prep = prepare_replacement(data, dropouts, excluded=_ids(args.exclude), **_engine_options(args))
    except InfeasibleQuotas as e:
        return _infeasible(e.report, out, base)
    rd = prep.draw(number)
    _csv(out / "panel.csv", ["id"], ([pid] for pid in rd.panel))
    _csv(out / "replacements.csv", ["new_id", "replaces", "shared_features"], rd.replacements)
    digest = rd.write_bundle(out / "bundle.zip")
    report = dict(base, **prep.prepared.stats())
    report.update(
        seconds=round(time.perf_counter() - t0, 3),
        round=prep.round,
        public_number=rd.draw.public_number,
        panel_index=rd.draw.index,
        newcomers=list(rd.newcomers),
        panel=rd.panel,
        bundle_sha256=digest,
    )
    _json(out / "report.json", report)
    if prep.prepared.relaxation:
        print(
            "Warning: the reserve pool could not meet the quotas, so the round used the smallest relaxation:",
            file=sys.stderr,
        )
        for line in prep.prepared.diagnosis:
            print("- " + line, file=sys.stderr)
    print(f"Round {prep.round}: commitment {prep.commitment}; public number {rd.draw.public_number!r}.")
    for new, old, _ in rd.replacements:
        print(f"  {new or '(nobody)'} takes the seat of {old or '(an extra seat)'}")
    print(f"Wrote panel.csv, replacements.csv, bundle.zip and report.json to {out}")
    return EXIT_OK


def _panels(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if n < 1 or n > 1_000_000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 1000000, not {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m lib.sortition", description="Kleroterion's transparent, fair stratified draw.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    d = sub.add_parser("draw", help="draw a panel from an instance folder")
    d.add_argument("instance", help="folder with people.csv, categories.csv and instance.json")
    d.add_argument("--seed", required=True, help="the public random number, as text")
    d.add_argument("--out", required=True, help="folder for the results")
    d.add_argument(
        "--algorithm",
        choices=["leximin", "goldilocks", "legacy"],
        default="leximin",
        help="leximin (the smallest chances as large as possible), goldilocks (nobody too unlikely, "
        "nobody nearly certain; gamma = 1) or legacy (the greedy draw, for comparison)",
    )
    d.add_argument("--panels", type=_panels, default=1000, help="M, the number of panels in the lottery (1000)")
    d.add_argument("--created", default="", help="text recorded as the freezing time (part of the commitment)")
    d.add_argument("--time-limit", type=float, default=None, help="seconds for the optimiser (default: none)")
    d.add_argument("--strict", action="store_true", help="stop with status 2 instead of relaxing impossible quotas")
    d.set_defaults(func=cmd_draw)
    c = sub.add_parser("check", help="only check whether the quotas can be met, and explain")
    c.add_argument("instance")
    c.set_defaults(func=cmd_check)
    v = sub.add_parser("verify", help="verify an audit bundle (PASS or what does not match)")
    v.add_argument("bundle")
    v.add_argument(
        "--commitment",
        default=None,
        help="the commitment that was announced before the draw "
        "(64 hex digits; spaces between groups and capitals do not matter)",
    )
    v.add_argument(
        "--public-number",
        default=None,
        help="the public random number that was drawn (since engine "
        "1.1 only its letters and digits count: '17 23 05' is '172305')",
    )
    v.add_argument("--receipt", default=None, help="your receipt code (b... - ...): were you in the pool, and picked?")
    v.add_argument(
        "--record",
        default=None,
        help="the public record (record.json): check that it reveals this "
        "bundle's commitment with its public number, and that every rule of the record holds",
    )
    v.add_argument("--record-head", default=None, help="the record's head as announced on the Transparency page")
    v.set_defaults(func=cmd_verify)
    vr = sub.add_parser("verify-record", help="check the public record of every commitment, withdrawal and reveal")
    vr.add_argument("record", help="record.json from the Transparency page")
    vr.add_argument("--head", default=None, help="the record's head as announced (its last event's hash)")
    vr.set_defaults(func=cmd_verify_record)
    r = sub.add_parser("replace", help="draw replacements for panel members who dropped out")
    r.add_argument("bundle", help="the bundle of the draw (or the last replacement round) to continue")
    r.add_argument("--dropouts", required=True, help="ids of the members who dropped out, comma-separated")
    r.add_argument("--exclude", default="", help="ids to keep out of the reserve pool, comma-separated")
    r.add_argument("--seed", required=True, help="the public random number, as text")
    r.add_argument("--out", required=True)
    r.add_argument("--algorithm", choices=["leximin", "legacy"], default="leximin")
    r.add_argument("--panels", type=_panels, default=1000)
    r.add_argument("--created", default="")
    r.add_argument("--time-limit", type=float, default=None)
    r.add_argument("--strict", action="store_true")
    r.set_defaults(func=cmd_replace)
    return p


def main(argv: list[str] | None = None) -> int:
    return run_command(
        build_parser(), argv, plain=(InputError,), on_plain=_say_plainly, bug=_bug_message, exit_input=EXIT_INPUT
    )


def _say_plainly(e: BaseException, args) -> None:
    print(f"Error: {e}", file=sys.stderr)


def _bug_message(e: Exception) -> str:
    return (
        f"Error: something unexpected went wrong ({type(e).__name__}: {e}). This is a bug in Kleroterion; "
        "please report it with the command you ran. Set KLEROTERION_DEBUG=1 to see the details."
    )
