"""The layer above the plug-ins that puts a run together: a checked config from dicts
(:mod:`.validate`), asking the registries what each plug-in declares."""
