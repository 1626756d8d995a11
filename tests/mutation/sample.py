"""Keep a seeded random sample of a cosmic-ray session's pending mutants; mark the others skipped.

Run by tests/mutation/run.sh with the mutation environment's Python, right after `cosmic-ray init` and the
operators filter, when the module's config says `# sample: N` (or MUTATION_SAMPLE=N is set): a module whose
every mutant would take more than about ten minutes on this shared 2-core machine is measured on a sample.
The seed is fixed and the mutants are ordered by what they change, so the same module and config give the
same sample, and the score is killed / (killed + survived) over the sampled mutants only.
Another seed (MUTATION_SEED=S, default 18) draws another sample of the same module: a fresh sample after the
tests written against the previous one's survivors.
Usage: python sample.py SESSION N
"""

import os
import random
import sys

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult


def main(session: str, size: int) -> None:
    with use_db(session, WorkDB.Mode.open) as db:
        # By what each mutant changes, not by job id: cosmic-ray draws new random job ids at every `init`, so an
        # order of ids would give another sample each time a session starts over.
        items = sorted(
            db.pending_work_items,
            key=lambda i: [(str(m.module_path), m.operator_name, m.occurrence, m.start_pos) for m in i.mutations],
        )
        pending = [item.job_id for item in items]
        kept = set(random.Random(int(os.environ.get("MUTATION_SEED", "18"))).sample(pending, min(size, len(pending))))
        for job_id in pending:
            if job_id not in kept:
                db.set_result(job_id, WorkResult(output="Not in the sample", worker_outcome=WorkerOutcome.SKIPPED))
    print(f"sample: {len(kept)} of {len(pending)} mutants kept")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
