"""The live judge path gives what the reference pipeline gives on the same final answers.

A loopback judge answers with off-level scores, out-of-order R lines on some first attempts,
grammar breaks on others and short answers on a few; the app must ask again exactly when the
reference inference asks again, keep the last answer, and score it by the reference analysis
rules (restated in tests/test_scoring.py::reference_score, which must not import the app)."""

import io
import json
from collections import Counter

import numpy as np
import pytest
from django.core.management import call_command

from metajudge.matching import chunks as matching
from metajudge.method import scoring
from metajudge.models import Critic, Judgment, MatchResult, MatchRun
from metajudge.runs import match_runs as runs
from metajudge.services.setup import endpoint_for, template_default
from tests.llm_server import TrickyMetaJudge, atoms_key, last_user_text
from tests.test_pipeline import drain, start_llm
from tests.test_scoring import reference_score

S = MatchResult.Status


def start(demo, server):
    return start_llm(demo, "careful-judge", server)


def report(critic="careful-judge"):
    out = io.StringIO()
    call_command("metajudge_report", dataset="demo", critic=critic, format="json", stdout=out)
    return json.loads(out.getvalue())


def key_for(result: MatchResult) -> str:
    return atoms_key(result.revision.atoms, result.judgment.atoms)


def reference_figures(judge: TrickyMetaJudge, results) -> dict:
    """The reference analysis over the final answers the judge gave (loop-shaped)."""
    per_sample, errors = [], 0
    for result in results:
        n, m = len(result.revision.atoms), len(result.judgment.atoms)
        final = judge.last[key_for(result)]
        assert final.strip() == result.raw_text.strip(), "the last answer is the one kept"
        outcome = reference_score(final, n, m)
        if outcome == "error":
            errors += 1
        elif outcome != "skipped":
            per_sample.append(outcome)
    arr = np.array(per_sample)
    return {
        "valid_samples": len(per_sample),
        "error_samples": errors,
        "precision": float(arr[:, 0].mean()),
        "recall": float(arr[:, 1].mean()),
        "f1": float(arr[:, 2].mean()),
        "average_precision": float(arr[:, 3].mean()),
        "recall_std": float(arr[:, 1].std()),
    }


@pytest.fixture
def judge(llm_server):
    judge = TrickyMetaJudge()
    llm_server.responder = judge
    return judge


@pytest.mark.django_db
def test_off_level_and_reordered_answers_score_as_the_reference_scores_them(
    demo, llm_server, judge, settings
):
    settings.METAJUDGE_FORMAT_RETRIES = 4
    run = drain(start(demo, llm_server))
    results = list(
        MatchResult.objects.filter(run=run).select_related("revision", "judgment").order_by("pk")
    )
    kinds = Counter(judge.kind(k) for k in judge.asked)
    assert set(kinds) >= {"off_level", "order_first", "break_first", "break_always", "short"}
    expected = reference_figures(judge, results)
    [got] = report()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    assert expected["valid_samples"] > 0
    # Off-level scores are valid, and kept as they were given.
    assert any(line[2] in (0.3, 0.8, 0.67) for r in results for line in r.lines)


@pytest.mark.django_db
def test_reasks_follow_the_reference_rule_and_are_recorded(demo, llm_server, judge, settings):
    settings.METAJUDGE_FORMAT_RETRIES = 4
    run = drain(start(demo, llm_server))
    by_kind: dict[str, list[MatchResult]] = {}
    for result in MatchResult.objects.filter(run=run).select_related("revision", "judgment"):
        by_kind.setdefault(judge.kind(key_for(result)), []).append(result)
    asked = {judge.kind(k): n for k, n in judge.asked.items()}
    assert asked["off_level"] == 1 and asked["short"] == 1  # never asked again
    assert asked["order_first"] == 2 and asked["break_first"] == 2
    assert asked["break_always"] == 5  # the first answer and four re-asks, as the reference
    for r in by_kind["order_first"]:
        assert r.format_retries == 1 and r.status == S.VALID
        assert "not consecutive" in r.retry_reasons[0]
    for r in by_kind["break_always"]:
        assert r.format_retries == 4 and r.status == S.ERROR
        assert r.error.startswith("format error") and len(r.retry_reasons) == 5
    for r in by_kind["short"]:
        assert r.format_retries == 0 and r.status == S.ERROR and "score lines" in r.error
    for r in by_kind["off_level"]:
        assert r.status == S.VALID and r.format_retries == 0


@pytest.mark.django_db
def test_strict_grammar_is_an_opt_in_template_setting(demo, llm_server, judge, settings):
    settings.METAJUDGE_FORMAT_RETRIES = 1
    template = template_default("metajudge")
    template.strict_grammar = True
    template.save()
    run = drain(start(demo, llm_server))
    off_level = [k for k in judge.asked if judge.kind(k) == "off_level"]
    assert off_level and all(judge.asked[k] == 2 for k in off_level)  # asked again
    assert MatchResult.objects.filter(run=run, format_retries=1).exists()


@pytest.mark.django_db
def test_judge_calls_use_the_reference_defaults(demo, llm_server, judge):
    drain(start(demo, llm_server))
    sent = judge.requests[0]
    assert sent["temperature"] == 0.6 and sent["max_tokens"] == 8192


@pytest.mark.django_db
@pytest.mark.parametrize("skip", [False, True])
def test_unscorable_samples_are_asked_unless_the_setting_skips_them(
    demo, llm_server, judge, settings, skip
):
    settings.METAJUDGE_SKIP_UNSCORABLE = skip
    critic = Critic.objects.get(name="careful-judge")
    emptied = Judgment.objects.filter(critic=critic).order_by("pair_id").first()
    Judgment.objects.filter(pk=emptied.pk).update(atoms=[])
    run = drain(start(demo, llm_server))
    result = MatchResult.objects.get(run=run, pair_id=emptied.pair_id)
    asked_about_it = any("S1:" not in last_user_text(r) for r in judge.requests)
    assert asked_about_it is not skip
    assert run.skip_unscorable is skip
    assert result.status in (S.SKIPPED, S.ERROR)
    if skip:
        assert result.attempts == 0 and result.error.startswith("skipped")
    [row] = report()
    assert row["skip_unscorable"] is skip


# --- results are never silently wrong or lost ---------------------------------------------------


def offline_chunk(demo):
    """An offline run of the careful critic, not yet started, and its one chunk."""
    run = runs.run_start(
        dataset=demo,
        critic=Critic.objects.get(name="careful-judge"),
        matcher="offline",
        enqueue=False,
    )
    [chunk] = runs.pending_chunks(run)
    return run, chunk


def offline_answer(sample):
    from metajudge.method import lexical as offline_matcher

    return matching.Answer(offline_matcher.match_answer(sample.human, sample.model))


@pytest.mark.django_db
def test_an_edit_while_the_sample_is_in_flight_leaves_it_stale(demo):
    from annotate.models import Checklist, ChecklistRevision
    from metajudge.matching.staleness import mark_pair_stale

    run, chunk = offline_chunk(demo)
    samples = matching._samples(run, matching.claim(run, chunk))  # the calls start
    checklist = Checklist.objects.get(pair_id=samples[0].result.pair_id, slot=0)
    revision = ChecklistRevision.objects.create(
        checklist=checklist, number=2, atoms=checklist.atoms + ["Response 2 is longer."]
    )
    Checklist.objects.filter(pk=checklist.pk).update(current=revision)
    mark_pair_stale(checklist.pair_id)  # the edit lands while the sample is in flight
    matching._write(run, [(s, offline_answer(s)) for s in samples])
    edited = MatchResult.objects.get(run=run, pair_id=checklist.pair_id)
    assert edited.revision_id != revision.pk and edited.stale
    assert MatchResult.objects.filter(run=run, stale=True).count() == 1


@pytest.mark.django_db
def test_only_the_current_claim_holder_writes_and_counters_are_recounted(demo, settings):
    settings.METAJUDGE_CLAIM_LEASE = 60
    run, chunk = offline_chunk(demo)
    first = matching._samples(run, matching.claim(run, chunk, "task-a"))
    # task-a stalls past its lease; task-b takes the chunk over and finishes it.
    from datetime import timedelta

    from django.utils import timezone

    MatchResult.objects.filter(run=run).update(claimed_at=timezone.now() - timedelta(hours=1))
    second = matching._samples(run, matching.claim(run, chunk, "task-b"))
    assert len(second) == 32
    for sample in second:
        sample.result.run = run
    answers = [(s, offline_answer(s)) for s in second]
    for _, answer in answers:
        answer.attempts, answer.prompt_tokens = 1, 10
    matching._write(run, answers)
    late = [(s, matching.Answer("late <RESULT_START>\n- R1@S0: 0\n<RESULT_END>")) for s in first]
    for _, answer in late:
        answer.attempts, answer.prompt_tokens = 1, 10
    matching._write(run, late)  # task-a wakes up: its writes are refused
    assert not MatchResult.objects.filter(run=run, raw_text__startswith="late").exists()
    run = runs.run_finalize(run_id=run.pk)
    assert (run.done_count, run.calls, run.prompt_tokens) == (32, 32, 320)


@pytest.mark.django_db
def test_a_redelivered_copy_of_a_live_task_cannot_take_its_claims(demo):
    run, chunk = offline_chunk(demo)
    owner = "6a1c2b34-0000-4000-8000-000000000001"
    assert len(matching.claim(run, chunk, owner)) == 32
    assert matching.claim(run, chunk, owner) == []  # same task, same delivery count: live


@pytest.mark.django_db
def test_claims_are_renewed_while_calls_are_in_flight(demo, settings):
    import time

    from metajudge.runs import lifecycle

    settings.METAJUDGE_CLAIM_LEASE = 4  # heartbeat every second
    run, chunk = offline_chunk(demo)
    samples = matching._samples(run, matching.claim(run, chunk))
    claimed_at = MatchResult.objects.filter(run=run).first().claimed_at

    def slow(feed, done, stop):
        time.sleep(2.5)
        for job in feed.first:
            done.put((job, offline_answer(job)))

    tokens = [s.token for s in samples]
    seen = []
    lifecycle.drain(
        slow,
        samples,
        lambda batch: None,
        lambda: False,
        lambda: (
            lifecycle.renew(MatchResult.objects.filter(run=run), tokens),
            seen.append(MatchResult.objects.filter(run=run).first().claimed_at),
        ),
    )
    assert seen and seen[-1] > claimed_at


def test_chunks_end_within_a_quarter_of_the_lease(settings):
    from metajudge.runs import lifecycle

    for concurrency in (1, 8, 32, 64, 256):
        size = lifecycle.chunk_size(concurrency)
        rounds = size / concurrency
        worst = rounds * settings.METAJUDGE_CALL_SECONDS
        assert worst <= settings.METAJUDGE_CLAIM_LEASE / 4 or size == settings.METAJUDGE_CHUNK_SIZE
        assert size >= concurrency


def test_a_lease_longer_than_twice_the_visibility_timeout_is_refused():
    import subprocess
    import sys

    code = "import django; django.setup()"
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "1",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "CELERY_VISIBILITY_TIMEOUT": "400",
        "METAJUDGE_CLAIM_LEASE": "900",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "at most twice" in done.stderr


@pytest.mark.django_db
def test_a_failed_generation_never_replaces_a_good_judgment(demo, llm_server, fast_retries):
    from metajudge.generation import genrm, genrm_chunk
    from metajudge.models import GenrmItem

    critic = Critic.objects.get(name="careful-judge")  # imported, with labels and atoms
    before = dict(Judgment.objects.filter(critic=critic).values_list("pair_id", "label"))
    assert len(before) == 32 and all(label in (1, 2) for label in before.values())
    llm_server.set_faults("400")
    endpoint = endpoint_for(model="genrm-x", base_url=llm_server.base_url, concurrency=8)
    run = genrm.genrm_run_start(dataset=demo, critic=critic, endpoint=endpoint, enqueue=False)
    for chunk in genrm.pending_chunks(run):
        genrm_chunk.process_chunk(run_id=run.pk, pair_ids=chunk, enqueue_chain=False)
    after = dict(Judgment.objects.filter(critic=critic).values_list("pair_id", "label"))
    assert after == before
    assert not Judgment.objects.filter(critic=critic).exclude(error="").exists()
    failed = GenrmItem.objects.filter(run=run, status="error")
    assert failed.count() == 32
    assert all(i.failed_at is not None and i.error.startswith("HTTP 400") for i in failed)


def test_reask_reason_is_the_reference_rule():
    ok = "<RESULT_START>\n- R1@S1: 0.3\n- R2@S0: 0.8\n<RESULT_END>"
    assert scoring.reask_reason(ok) is None
    assert scoring.reask_reason(ok.replace("R2", "R3")) is not None  # not consecutive
    assert scoring.reask_reason(ok.replace("R1", "R0").replace("R2", "R1")) is not None  # not R1
    assert scoring.reask_reason("- R1@S1: 1") is not None  # no block
    assert scoring.reask_reason("<RESULT_START>x<RESULT_END>") is not None  # no line
    assert scoring.reask_reason(ok.replace("0.3", "1.5")) is not None  # outside [0, 1]
    assert scoring.reask_reason("<RESULT_START>\n- R1@S1: 0.3\n<RESULT_END>") is None  # short


@pytest.mark.django_db
def test_the_dashboard_prefers_an_llm_run_names_it_and_lets_a_user_choose(
    demo, llm_server, as_superuser
):
    from tests.factories import score_offline

    llm = drain(start(demo, llm_server))
    score_offline("careful-judge")  # newer, but only the approximation
    score_offline("surface-judge")
    offline = MatchRun.objects.get(critic__name="careful-judge", matcher="offline")
    assert offline.created_at >= llm.created_at
    [row] = report()
    assert (row["run"], row["matcher"], row["judge_model"]) == (llm.pk, "llm", "judge-x")
    assert row["template"].endswith("v1")
    url = f"/audit/{demo.name}/"
    page = as_superuser.get(url).content.decode()
    assert f"#{llm.pk}</a>" in page and "LLM · judge-x" in page
    assert "different matchers" in page  # careful-judge by the LLM, surface-judge offline
    chosen = as_superuser.get(url, {"run": offline.pk}).content.decode()
    assert f"#{offline.pk}</a>" in chosen and "LLM · judge-x" not in chosen
    assert "different matchers" not in chosen


@pytest.mark.django_db
def test_matcher_agreement_compares_llm_and_offline_runs_per_sample(demo, llm_server, as_superuser):
    from metajudge.audit.matcher_agreement import best_match, dataset_agreement, pearson
    from tests.factories import score_offline

    llm = drain(start(demo, llm_server))
    score_offline("careful-judge")
    offline = MatchRun.objects.get(critic__name="careful-judge", matcher="offline")
    [row] = dataset_agreement(demo)
    a = {r.pair_id: r for r in MatchResult.objects.filter(run=llm, status=S.VALID)}
    b = {r.pair_id: r for r in MatchResult.objects.filter(run=offline, status=S.VALID)}
    common = sorted(set(a) & set(b))
    assert row["samples"] == len(common) > 0
    expected_r = pearson([a[p].recall for p in common], [b[p].recall for p in common])
    assert row["recall_correlation"] == pytest.approx(expected_r)
    same = total = 0
    for p in common:
        left, right = best_match(a[p].lines), best_match(b[p].lines)
        for i in set(left) | set(right):
            total += 1
            same += left.get(i, 0) == right.get(i, 0)
    assert row["same_match_share"] == pytest.approx(same / total)
    page = as_superuser.get(f"/audit/{demo.name}/").content.decode()
    assert "Matcher agreement" in page


def test_pearson_and_best_match_rules():
    from metajudge.audit.matcher_agreement import best_match, pearson

    assert pearson([0, 1, 2], [0, 2, 4]) == pytest.approx(1.0)
    assert pearson([1, 1], [0, 1]) is None and pearson([1], [1]) is None
    assert best_match([[1, 2, 0.25], [1, 3, 0.75], [2, 1, 0.25]]) == {1: 3, 2: 0}


@pytest.mark.django_db
def test_the_table_report_names_the_run_and_the_unscorable_rule(demo):
    from tests.factories import score_offline

    score_offline("careful-judge")
    out = io.StringIO()
    call_command("metajudge_report", dataset="demo", stdout=out)
    text = out.getvalue()
    assert "careful-judge: run" in text and "offline" in text
    assert "no or too many model atoms" in text
