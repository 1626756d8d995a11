"""The scale-out engine: the oracle's period run, KPIs and clustering on Apache Spark over a Delta Lake, with the
local engine's outputs byte for byte (docs/scale.md). Nothing here is imported unless `--engine spark` or
`lec lake` is used."""
