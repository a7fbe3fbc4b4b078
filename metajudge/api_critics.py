"""REST API: critics and their judgments, listed (cursor-paginated) and exported (JSONL)."""

import json

from django.db.models import Count, Q
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from annotate.access import get_dataset, visible_datasets
from annotate.pagination import ByIdCursor
from metajudge.models import Critic, Judgment

DATASET = OpenApiParameter("dataset", str, description="only this dataset")


class CriticSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    n_judgments = serializers.IntegerField()


class JudgmentRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    pair = serializers.IntegerField(source="pair_id")
    pair_key = serializers.CharField(source="pair.external_id")
    dataset = serializers.CharField(source="pair.dataset.name")
    label = serializers.IntegerField(allow_null=True)
    atoms = serializers.ListField(child=serializers.CharField())
    generated_text = serializers.CharField()
    source = serializers.CharField()
    tokens = serializers.IntegerField()
    latency_ms = serializers.IntegerField()


def _datasets(request):
    name = request.query_params.get("dataset", "")
    if name:
        return [get_dataset(request.user, name)]
    return visible_datasets(request.user)


def _judgments(request, name: str):
    critic = Critic.objects.filter(name=name).first()
    if critic is None:
        raise NotFound("No such critic.")
    judgments = Judgment.objects.filter(critic=critic, pair__dataset__in=_datasets(request))
    return judgments.select_related("pair__dataset")


@extend_schema(parameters=[DATASET])
class CriticList(generics.ListAPIView):
    """Critics with judgments in datasets you see."""

    serializer_class = CriticSerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        seen = Q(judgments__pair__dataset__in=_datasets(self.request))
        return Critic.objects.filter(seen).annotate(n_judgments=Count("judgments", filter=seen))


@extend_schema(parameters=[DATASET])
class CriticJudgmentList(generics.ListAPIView):
    """A critic's judgments (label, atoms, generated text), cursor-paginated."""

    serializer_class = JudgmentRowSerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        return _judgments(self.request, self.kwargs["name"])


class CriticJudgmentExport(APIView):
    """A critic's judgments streamed as JSONL, one object per line."""

    @extend_schema(
        parameters=[DATASET], responses={(200, "application/x-ndjson"): OpenApiTypes.STR}
    )
    def get(self, request, name: str):
        rows = _judgments(request, name).order_by("id")

        def lines():
            for j in rows.iterator(chunk_size=2000):
                yield json.dumps(JudgmentRowSerializer(j).data, ensure_ascii=False) + "\n"

        response = StreamingHttpResponse(lines(), content_type="application/x-ndjson")
        response["Content-Disposition"] = f'attachment; filename="{name}-judgments.jsonl"'
        return response
