"""REST API: the API root, and runs of every kind started and watched as on the runs page.

A run's id names its table: "match-<pk>" (MetaJudge and verdict runs) or "genrm-<pk>" (GenRM
and atomizer runs), so one URL, /api/v1/runs/<id>/, reports any run."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import get_dataset
from metajudge.access import get_genrm_run, get_run, require_reviewer
from metajudge.launch.selectors import dataset_runs, launch_estimate, run_ref, run_report
from metajudge.launch.services import KINDS, SUBSETS, Launch, run_launch
from metajudge.models import JudgeEndpoint, PromptTemplate

RUN_ID = OpenApiParameter(
    "run_id",
    str,
    OpenApiParameter.PATH,
    description='"match-<pk>" for MetaJudge and verdict runs, "genrm-<pk>" for GenRM and '
    "atomizer runs (the `id` that POST /api/v1/runs/ answers)",
)


class ApiRoot(APIView):
    """Every endpoint of this API, as links."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        def url(name, *args):
            return request.build_absolute_uri(reverse(name, args=args))

        return Response(
            {
                "token": url("api-token"),
                "datasets": url("api-datasets"),
                "dataset": url("api-dataset", "{name}"),
                "import": url("api-import", "{name}"),
                "import_job": url("api-import-job", 0).replace("/0/", "/{id}/"),
                "export": url("api-export", "{name}"),
                "figures": url("api-figures", "{name}"),
                "audit": url("api-audit", "{name}"),
                "audit_export": url("api-audit-export", "{name}"),
                "pairs": url("api-pairs"),
                "pair": url("api-pair", 0).replace("/0/", "/{pair_id}/"),
                "pair_checklist": url("api-pair-checklist", 0).replace("/0/", "/{pair_id}/"),
                "critics": url("api-critics"),
                "critic_judgments": url("api-critic-judgments", "{name}"),
                "critic_judgments_export": url("api-critic-judgments-export", "{name}"),
                "runs": url("api-runs"),
                "run": url("api-run", "{id}"),
                "reward": url("api-reward"),
                "schema": url("schema"),
                "docs": url("api-docs"),
            }
        )


class RunStartSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    dataset = serializers.CharField()
    critic = serializers.CharField(required=False, default="", allow_blank=True)
    endpoint = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="a configured endpoint's name"
    )
    matcher = serializers.CharField(required=False, default="offline")
    template = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="name or name@version"
    )
    subset = serializers.ChoiceField(choices=SUBSETS, required=False, default="all")
    domain = serializers.CharField(required=False, default="", allow_blank=True)
    chain_matcher = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="GenRM: offline, llm or empty"
    )
    chain_endpoint = serializers.CharField(required=False, default="", allow_blank=True)
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="only answer what the run would cost"
    )


def _endpoint(name: str) -> JudgeEndpoint | None:
    if not name:
        return None
    found = JudgeEndpoint.objects.filter(name=name).first()
    if found is None:
        raise ValidationError({"endpoint": f"no configured endpoint named {name!r}"})
    return found


def _template(value: str) -> PromptTemplate | None:
    if not value:
        return None
    name, _, version = value.partition("@")
    found = PromptTemplate.objects.filter(name=name).order_by("-version")
    found = found.filter(version=int(version)) if version.isdigit() else found
    if not found.exists():
        raise ValidationError({"template": f"no template {value!r}"})
    return found.first()


def run_json(request, run) -> dict:
    report = run_report(run)
    ref, dataset = report["ref"], run.dataset.name
    page = reverse("audit:run" if ref.startswith("match") else "audit:genrm-run", args=[run.pk])
    chained = getattr(run, "chained_run", None)
    links = {
        "self": request.build_absolute_uri(reverse("api-run", args=[ref])),
        "page": request.build_absolute_uri(page),
        "figures": request.build_absolute_uri(reverse("api-figures", args=[dataset])),
        "export": request.build_absolute_uri(reverse("api-export", args=[dataset])),
    }
    return {
        "id": ref,
        "kind": report["kind"],
        "dataset": dataset,
        "critic": run.critic.name if run.critic_id else None,
        "state": run.state,
        "finished": not report["open"],
        "total": run.total,
        "done": run.done_count,
        "errors": run.error_count,
        "progress": round(run.progress, 4),
        "throughput_per_s": report["throughput"],
        "eta_s": report["eta"],
        "prompt_tokens": run.prompt_tokens,
        "completion_tokens": run.completion_tokens,
        "calls": run.calls,
        "errors_by_cause": [{"cause": c, "count": n} for c, n in report["errors"]],
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "chained_run": run_ref(chained) if chained else None,
        "links": links,
    }


class RunList(APIView):
    """POST starts (or re-opens) a run of any kind; GET lists a dataset's newest runs."""

    @extend_schema(
        operation_id="v1_runs_list",
        parameters=[OpenApiParameter("dataset", str, required=True)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        dataset = get_dataset(request.user, request.query_params.get("dataset", ""))
        require_reviewer(request.user, dataset)
        return Response({"results": [run_json(request, r) for r in dataset_runs(dataset)]})

    @extend_schema(request=RunStartSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        body = RunStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        dataset = get_dataset(request.user, data["dataset"])
        require_reviewer(request.user, dataset)
        launch = Launch(
            kind=data["kind"],
            dataset=dataset,
            critic=data["critic"],
            endpoint=_endpoint(data["endpoint"]),
            matcher=data["matcher"],
            template=_template(data["template"]),
            subset=data["subset"],
            domain=data["domain"],
            chain_matcher=data["chain_matcher"],
            chain_endpoint=_endpoint(data["chain_endpoint"]),
        )
        try:
            if data["dry_run"]:
                launch.clean()
                return Response({"estimate": launch_estimate(launch)})
            run = run_launch(launch=launch, user=request.user)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        body = run_json(request, run)
        return Response(body, status=201, headers={"Location": body["links"]["self"]})


class RunDetail(APIView):
    """A run's progress: counts, throughput, ETA, tokens, errors by cause and links."""

    @extend_schema(parameters=[RUN_ID], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, run_id: str):
        table, _, pk = run_id.partition("-")
        if not pk.isdigit() or table not in ("match", "genrm"):
            raise NotFound('A run id is "match-<pk>" or "genrm-<pk>".')
        run = (get_run if table == "match" else get_genrm_run)(request.user, int(pk))
        return Response(run_json(request, run))
