"""What answering costs per response, apart from the query: the query API's three ways to turn a
query's dict into JSON, timed on real answers over an archive bench.asof built.

    python -m bench.asof --db sqlite:////tmp/asof.db --no-replay      # build the archive once
    python -m bench.responses --db sqlite:////tmp/asof.db [--runs 300]

Per answer (median µs of `--runs`): msgspec's encoder (what the API does: `api/responses.Json`);
FastAPI's path for a route annotated `-> dict[str, Any]` (what it did before: pydantic validates
the dict, then dumps it); and validating through the route's response model (`response_model=`)
and dumping that. Checks that the model gives back exactly the dict. Measures and prints; never
asserts anything else.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgspec
from pydantic import BaseModel, TypeAdapter

from services.county.api.models.alerts import Alerts
from services.county.api.models.figures import EducationFigures, FundsFigures, PioneerFigures
from services.county.api.models.roster import RosterLevel, RosterMembers
from services.county.db.engine import make_engine
from services.county.queries import alerts, education, figures, roster
from services.county.queries.figures import GroupBy


def median_us(f: Callable[[], object], runs: int) -> float:
    f()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", required=True, help="a county database bench.asof built")
    parser.add_argument("--township", default="town-a")
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    engine = make_engine(args.db)
    with engine.connect() as conn:
        town = args.township
        cases: dict[str, tuple[dict[str, Any], type[BaseModel]]] = {
            f"roster members page (100), {town}": (roster.roster_members(conn, town, None), RosterMembers),
            f"roster counts, {town}": (roster.roster_summary(conn, town, None), RosterLevel),
            "funds by month": (figures.funds(conn, group_by=GroupBy.MONTH), FundsFigures),
            "pioneer by township": (figures.pioneer(conn, group_by=GroupBy.TOWNSHIP), PioneerFigures),
            "education by org": (education.education(conn, group_by=GroupBy.ORG), EducationFigures),
            f"alerts, {town} (page 100)": (alerts.alerts(conn, township=town), Alerts),
        }
    engine.dispose()
    encode = msgspec.json.Encoder().encode
    as_dict = TypeAdapter(dict[str, Any])
    print(
        f"{'answer':38} {'bytes':>7} {'msgspec µs':>11} {'dict[str, Any] µs':>18} {'response_model µs':>18}"
    )
    for name, (data, model) in cases.items():
        same = model.model_validate(data).model_dump(by_alias=True) == data
        now = median_us(lambda: encode(data), args.runs)  # noqa: B023 (called here, in this iteration)
        before = median_us(lambda: as_dict.dump_json(as_dict.validate_python(data)), args.runs)  # noqa: B023
        validated = median_us(
            lambda: model.model_validate(data).model_dump_json(by_alias=True),  # noqa: B023
            args.runs,
        )
        note = "" if same else "  (the model does not give back the same dict)"
        print(f"{name:38} {len(encode(data)):>7} {now:>11.0f} {before:>18.0f} {validated:>18.0f}{note}")


if __name__ == "__main__":
    main()
