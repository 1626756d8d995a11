"""Private helpers of the ape scripts (`deploy`, `seed`, `admin`, `summary`).

`ape run` offers every module of `scripts/` as a script except names that start with `_`, so the helpers live in
this package and stay out of `ape run --help`. The scripts import from here; nothing here imports a script, so
there is no import circle:

- `chain`: the admin account, zero-fee transactions, the deployments file, sending and explaining refusals;
- `values`: token amounts and addresses as a person types them;
- `market`: the marketplace commands that `admin` adds to its group;
- `seed_market`, `demo_listings`: the demo community's deals on chain and their listings in the database;
- `bench_market`: the marketplace's gas figures for `benchmarks.gas`.
"""
