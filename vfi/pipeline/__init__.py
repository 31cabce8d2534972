"""`vfi upsample` in stages: schedule, cuts, the stream, its threads, resumable parts, the job, folders."""
