"""REST API for the audit: dashboard figures and per-case audit results (JSON, CSV, JSONL)."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.pagination import ByIdCursor
from metajudge.access import get_audit_dataset
from metajudge.audit import exports as audit_export
from metajudge.audit.selectors import parse_threshold
from metajudge.selectors import critic_figures

THRESHOLD = OpenApiParameter("threshold", float, description="recall below this is misaligned")
CRITIC = OpenApiParameter("critic", str)
SPURIOUS = OpenApiParameter("spurious", bool, description="only spurious-correct cases")
CURSOR = OpenApiParameter(
    "cursor", str, description="Cursor pages by result id (empty for the first page, then `next`)"
)


class FiguresView(APIView):
    """The MetaJudge report for a dataset: one object per critic (its latest scoring run)."""

    @extend_schema(parameters=[THRESHOLD, CRITIC], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, name: str):
        dataset = get_audit_dataset(request.user, name)
        threshold = parse_threshold(request.query_params.get("threshold"))
        critic = request.query_params.get("critic", "")
        return Response(critic_figures(dataset, critic=critic, threshold=threshold))


class AuditRowSerializer(serializers.Serializer):
    result_id = serializers.IntegerField()
    pair_id = serializers.IntegerField()
    pair_key = serializers.CharField()
    domain = serializers.CharField()
    language = serializers.CharField()
    critic = serializers.CharField()
    run = serializers.IntegerField()
    matcher = serializers.CharField()
    judge_model = serializers.CharField()
    status = serializers.CharField()
    stale = serializers.BooleanField()
    label_correct = serializers.BooleanField(allow_null=True)
    precision = serializers.FloatField(allow_null=True)
    recall = serializers.FloatField(allow_null=True)
    f1 = serializers.FloatField(allow_null=True)
    average_precision = serializers.FloatField(allow_null=True)
    spurious = serializers.BooleanField()
    verdict = serializers.CharField()
    comment = serializers.CharField()


def _params(request):
    threshold = parse_threshold(request.query_params.get("threshold"))
    critic = request.query_params.get("critic", "")
    spurious = request.query_params.get("spurious", "") in ("1", "true", "yes")
    return threshold, critic, spurious


class AuditResultList(generics.GenericAPIView):
    """Audit results, one object per case: numbered pages (the default), or with `?cursor=`
    keyset pages by result id that cost the same at any depth."""

    serializer_class = AuditRowSerializer

    @extend_schema(parameters=[THRESHOLD, CRITIC, SPURIOUS, CURSOR])
    def get(self, request, name: str):
        dataset = get_audit_dataset(request.user, name)
        threshold, critic, spurious = _params(request)
        kwargs = {"critic": critic, "threshold": threshold, "spurious_only": spurious}
        if "cursor" in request.query_params:
            return self._cursor_page(request, dataset, threshold, kwargs)
        qs = audit_export.audit_results(dataset, **kwargs)
        page = self.paginate_queryset(qs)
        rows = audit_export.iter_rows_list(page, threshold)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    def _cursor_page(self, request, dataset, threshold, kwargs):
        pager = ByIdCursor()
        pager.page_size = self.paginator.page_size or pager.page_size
        page = pager.paginate_queryset(
            audit_export.audit_results_by_id(dataset, **kwargs), request, self
        )
        rows = audit_export.rows_from_dicts(page, threshold)
        return pager.get_paginated_response(self.get_serializer(rows, many=True).data)


class AuditExportView(APIView):
    """Audit results streamed as CSV or JSONL."""

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["jsonl", "csv"]),
            THRESHOLD,
            CRITIC,
            SPURIOUS,
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.STR,
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request, name: str):
        dataset = get_audit_dataset(request.user, name)
        fmt = request.query_params.get("format", "jsonl")
        if fmt not in ("jsonl", "csv"):
            raise ValidationError({"format": "use jsonl or csv"})
        threshold, critic, spurious = _params(request)
        qs = audit_export.audit_results(
            dataset, critic=critic, threshold=threshold, spurious_only=spurious
        )
        rows = (audit_export.iter_csv if fmt == "csv" else audit_export.iter_jsonl)(qs, threshold)
        content_type = "text/csv" if fmt == "csv" else "application/x-ndjson"
        response = StreamingHttpResponse(rows, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{dataset.name}-audit.{fmt}"'
        return response
