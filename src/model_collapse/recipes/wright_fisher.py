"""The categorical chain as Wright-Fisher drift: exact refits of n counts lose the
heterozygosity 1 - sum p^2 by a factor 1 - 1/n a generation, in expectation, and with it
the rare categories (Seddik et al. 2024 track the same sum S_m = 1 - (1 - 1/n)^m (1 - S_0)
to its collapse). The share of categories kept has no closed form here: ours only."""

from __future__ import annotations

from model_collapse.recipes.base import (
    RECIPES,
    Finished,
    Recipe,
    Row,
    Scale,
    last_generation,
    mean_interval,
    seeds_at,
)

SOURCE = (
    "Wright-Fisher drift (Wright 1931; Fisher 1930): E[H_t] = H_0 (1 - 1/n)^t, as Seddik "
    "et al. (2024) write it for a language model's categorical: S_m = 1 - (1 - 1/n)^m (1 - S_0)"
)


def _reproduce(runs: list[Finished]) -> list[Row]:
    from model_collapse.theory import theory_for

    rows = []
    for run in sorted(runs, key=lambda r: r.config.sampling.n):
        n = run.config.sampling.n
        generations = last_generation(run) + 1
        theory = theory_for(run.config, "heterozygosity_ratio")
        assert theory is not None  # the zipf source under replace: Wright-Fisher holds
        expected = theory.mean(run.config, generations)
        assert expected is not None
        for g in sorted({0, generations // 10, generations // 2, generations - 1}):
            ours = mean_interval(seeds_at(run, "heterozygosity_ratio", g))
            rows.append(Row(f"heterozygosity_ratio, n = {n}", g, *ours, float(expected[g]), SOURCE))
            kept = mean_interval(seeds_at(run, "support_fraction", g))
            rows.append(Row(f"support_fraction, n = {n}", g, *kept, source="ours only"))
    return rows


def _sweep(generations: int, seeds: int, sizes: list[int]) -> dict[str, object]:
    return {
        "base": "zipf",
        "set": {"experiment.generations": generations, "experiment.seeds": seeds},
        "grid": {"sampling.n": sizes},
    }


RECIPES.register("wright-fisher")(
    Recipe(
        "categorical refits on a Zipf law: heterozygosity's (1 - 1/n) decay and lost categories",
        "Wright-Fisher drift",
        {
            "small": Scale(_sweep(200, 200, [100, 1000]), "11 s on 2 CPU cores"),
            "paper": Scale(_sweep(1000, 1000, [100, 1000, 10000]), "not yet measured"),
        },
        _reproduce,
    )
)
