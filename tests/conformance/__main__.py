"""Command line: ``python -m tests.conformance --mode general [--suite NAME] [--report docs/conformance.md]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smt.config import data_dir

from .jsonio import load, pretty
from .pass_list import write_pass_list
from .report import group_causes, kind_totals, markdown, suite_counts, write_report
from .runner import Outcome, RunResult, run_conformance


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__)
    parser.add_argument("--mode", default="general",
                        help="run modes, comma-separated (general, snomed, flat, tx.fhir.org, …); default general")
    parser.add_argument("--suite", action="append", help="only this suite (repeatable)")
    parser.add_argument("--filter", help="only tests whose name contains this text")
    parser.add_argument("--report", type=Path, help="write the generated section of this Markdown file")
    parser.add_argument("--data-dir", type=Path, default=None, help="SMT_DATA_DIR (default from the environment)")
    parser.add_argument("--home", type=Path, help="use this SMT_HOME (e.g. with SNOMED loaded) instead of a "
                                                  "fresh temporary store")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default 60)")
    parser.add_argument("--in-process", action="store_true", help="no child process (no timeout protection)")
    parser.add_argument("--externals", type=Path, help="external message strings file (messages-*.json); "
                                                       "default: only the fragments are checked")
    parser.add_argument("--dump", type=Path, help="write expected/actual JSON of failing tests under this folder")
    parser.add_argument("--tests-dir", type=Path, help="the HL7 test folder to run (default: "
                        "$SMT_DATA_DIR/fhir-tx-tests/hl7-tx-ecosystem-ig/tests), e.g. a newer upstream checkout")
    parser.add_argument("--cases", type=Path, help="the test list (default: test-cases.json in the test folder)")
    parser.add_argument("--write-pass-list", type=Path, metavar="PATH",
                        help="record the passed tests of this run (one mode) in the pass list at PATH "
                             "(tests/conformance/pass_list.json is the committed ratchet)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every failing test")
    return parser


def _dump(result: RunResult, folder: Path) -> None:
    responses = {t.id: t.response for s in result.suites for t in s.tests}
    for outcome in result.outcomes:
        if outcome.passed or outcome.id not in responses:
            continue
        name = responses[outcome.id]
        for side, document in (("expected", result.data.load(name)), ("actual", outcome.actual)):
            target = folder / side / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(pretty(document) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    modes = {m.strip() for m in args.mode.split(",") if m.strip()}
    if args.write_pass_list and (len(modes) != 1 or args.suite or args.filter):
        parser.error("--write-pass-list needs a full run of one mode (no --suite, no --filter)")

    def progress(outcome: Outcome) -> None:
        if args.verbose and not outcome.passed:
            print(f"FAIL {outcome.id}: {outcome.reason}", flush=True)

    result = run_conformance(args.data_dir or data_dir(), modes, only=set(args.suite) if args.suite else None,
                             name_filter=args.filter, home=args.home, timeout=args.timeout,
                             in_process=args.in_process, externals=load(args.externals) if args.externals else None,
                             progress=progress, tests_dir=args.tests_dir, cases=args.cases)
    counts = suite_counts(result.suites, result.outcomes)
    width = max([len(c.name) for c in counts] + [5])
    print(f"{'suite':<{width}}  tests  passed  failed")
    for c in counts:
        print(f"{c.name:<{width}}  {c.tests:>5}  {c.passed:>6}  {c.failed:>6}")
    total, passed = len(result.outcomes), result.passed
    print(f"{'TOTAL':<{width}}  {total:>5}  {passed:>6}  {total - passed:>6}"
          f"   ({100 * passed / total if total else 0:.1f} % pass)")
    if total - passed:
        print("\nfailures by kind: " + ", ".join(f"{k} {n}" for k, n in kind_totals(result.outcomes).most_common()))
        print("top causes:")
        responses = {t.id: t.response for s in result.suites for t in s.tests}
        for cause, items in group_causes(result.outcomes, result.data, responses)[:15]:
            print(f"  {len(items):>4} × {cause}")
    if args.report:
        command = "python -m tests.conformance " + " ".join(argv if argv is not None else sys.argv[1:])
        write_report(args.report, markdown(result.suites, result.outcomes, modes=modes, data=result.data,
                                           command=command.strip(), restarts=result.restarts))
        print(f"\nreport written to {args.report}")
    if args.dump:
        _dump(result, args.dump)
    if args.write_pass_list:
        write_pass_list(args.write_pass_list, next(iter(modes)), result.outcomes)
        print(f"pass list written to {args.write_pass_list}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
