"""Build the network's database and print what it holds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carecoord_pages_big .venv/bin/python -m bench.dataset

The database named in DATABASE_URL is dropped and created again.
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django

django.setup()

from bench.dataset import build  # noqa: E402


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    dataset = build()
    print(
        f"built in {dataset.seconds:.1f} s: {dataset.sizes.patients:,} patients, "
        f"{dataset.timeline_rows:,} rows of the patient record"
    )
    for table, rows in sorted(dataset.rows.items()):
        print(f"  {table}: {rows:,}")
    print(f"personas: {dataset.emails}; showcase patient {dataset.showcase_patient}")


if __name__ == "__main__":
    main()
