"""Command line: ``python -m seed --out DIR [options]``."""

import os
import re
from datetime import date, timedelta

import click

from .generate import ADOPTIONS, FIXED_END, SCALES, generate


def today() -> date:
    """The machine's today (the tests put another day in its place)."""
    return date.today()


def _end(ctx, param, value: str) -> date:
    """``--end``: a day as YYYY-MM-DD, or ``yesterday`` (the day before today)."""
    if value == "yesterday":
        return today() - timedelta(days=1)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise click.BadParameter(f"{value!r} is neither a day as YYYY-MM-DD nor 'yesterday'")


@click.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the CSV files, or the NDJSON files of --format fhir (created if missing).")
@click.option("--seed", default=42, show_default=True, help="Random seed.")
@click.option("--scale", type=click.Choice(sorted(SCALES)), default="demo", show_default=True,
              help="Size preset.")
@click.option("--clinicians", type=click.IntRange(min=2), help="Override the preset's clinician count.")
@click.option("--referrers", type=click.IntRange(min=1), help="Override the preset's referrer count.")
@click.option("--referrals", type=click.IntRange(min=0), help="Override the preset's referral count.")
@click.option("--years", type=click.IntRange(min=1), default=5, show_default=True,
              help="Years covered, ending at --end.")
@click.option("--end", default=FIXED_END.isoformat(), show_default=True, callback=_end, metavar="YYYY-MM-DD|yesterday",
              help="Last day covered, or 'yesterday'. Another end than the default gives the same practice, "
                   "every date moved by the same whole number of days.")
@click.option("--adoption", type=click.Choice(ADOPTIONS), default="kind", show_default=True,
              help="How point persons choose whom to introduce and referrers which introduced "
                   "colleague to try (see above).")
@click.option("--format", "data_format", type=click.Choice(("csv", "fhir")), default="csv", show_default=True,
              help="csv: graphsvc's CSV files; fhir: a FHIR Bulk Data export (one NDJSON file per resource "
                   "type, as graphsvc export --format fhir writes it; the practice's NPI from "
                   "GRAPHSVC_PRACTICE_NPI, if set). OUT is replaced whole, so it must be new, empty or an "
                   "earlier FHIR export.")
@click.option("--quiet", is_flag=True, help="Print nothing.")
def main(out_dir, seed, scale, clinicians, referrers, referrals, years, end, adoption, data_format, quiet):
    """Write a deterministic synthetic practice as CSV files (or FHIR NDJSON) into OUT.

    \b
    --adoption decides how the practice's referrer relationships broaden:
      kind   the point person introduces colleagues suited to the referrer's
             kind; the referrer tries them all at random (the default demo).
      fit    the point person introduces the colleagues who fit the
             referrer's clients so far (needs, population, insurance,
             schedule); the referrer adopts the better-fitting ones and sends
             each client to the adopted colleague who fits it best.
      peers  both follow similar referrers (same kind, same organization):
             the colleagues they adopted most so far.
      mixed  each referrer has a latent preference for one of the three
             (kind 30%, fit 40%, peers 30%), followed as in that mode.
    Outside kind, a referrer's clients come from a caseload of its own and
    are passed to a colleague when the addressee cannot serve them.
    """
    options = dict(seed=seed, scale=scale, clinicians=clinicians, referrers=referrers, referrals=referrals,
                   years=years, end=end, adoption=adoption)
    if data_format == "fhir":
        counts = _write_fhir(out_dir, options)
    else:
        counts = generate(out_dir, **options)
    if not quiet:
        summary = " ".join(f"{name.removesuffix('.csv').removesuffix('.ndjson')}={count}"
                           for name, count in counts.items())
        click.echo(f"{out_dir}: {summary}")


def _write_fhir(out_dir, options) -> dict[str, int]:
    from graphsvc.errors import InvalidInput
    from graphsvc.limits import npi_problem

    from .fhir import write_fhir

    npi = os.environ.get("GRAPHSVC_PRACTICE_NPI", "").strip() or None
    if npi and npi_problem(npi):
        raise click.BadParameter(f"GRAPHSVC_PRACTICE_NPI: {npi_problem(npi)}")
    try:
        return write_fhir(out_dir, generate, practice_npi=npi, **options)
    except InvalidInput as e:
        raise click.ClickException(str(e)) from None


if __name__ == "__main__":
    main()
