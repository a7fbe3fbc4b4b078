"""Generation runs: a GenRM judging a dataset as a critic, or the atomizer splitting human
free-text reasons into suggested atoms. genrm (the run's lifecycle and the chained MetaJudge
run), genrm_chunk (one chunk of a run), genrm_calls (the calls, on an event loop),
genrm_writes (judgments, failures and suggestions written), atomize (suggested atoms)."""
