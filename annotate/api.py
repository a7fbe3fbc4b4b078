"""REST API for datasets, pairs and exports. Same selectors as the HTML views."""

from django.db.models import Prefetch
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from annotate import critic_judgments
from annotate.access import get_dataset, get_pair, visible_datasets
from annotate.exports import iter_csv, iter_rationalerm
from annotate.models import Checklist, Dataset, Pair
from annotate.pagination import PageOrCursor
from annotate.selectors import datasets_with_counts


class DatasetSerializer(serializers.ModelSerializer):
    n_pairs = serializers.IntegerField(read_only=True)
    n_checklists = serializers.IntegerField(read_only=True)
    n_critics = serializers.IntegerField(read_only=True)

    class Meta:
        model = Dataset
        fields = ["id", "name", "description", "n_pairs", "n_checklists", "n_critics", "created_at"]


class JudgmentSerializer(serializers.Serializer):
    critic = serializers.CharField(source="critic.name")
    label = serializers.IntegerField(allow_null=True)
    atoms = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()


class PairSerializer(serializers.ModelSerializer):
    dataset = serializers.CharField(source="dataset.name")
    human_checklist = serializers.SerializerMethodField()
    judgments = JudgmentSerializer(many=True, read_only=True)

    class Meta:
        model = Pair
        fields = [
            "id",
            "external_id",
            "dataset",
            "domain",
            "language",
            "context",
            "response_1",
            "response_2",
            "preference",
            "preference_strength",
            "human_reasons",
            "human_checklist",
            "judgments",
        ]

    def get_human_checklist(self, pair) -> list[str]:
        for checklist in pair.checklists.all():
            if checklist.slot == 0:
                return checklist.atoms
        return []


class PairListItemSerializer(serializers.ModelSerializer):
    """A pair in a cursor page: no texts (context, responses, reasons, judgments); those are on
    the detail endpoint that `url` names."""

    dataset = serializers.CharField(source="dataset.name")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Pair
        fields = [
            "id",
            "external_id",
            "dataset",
            "domain",
            "language",
            "preference",
            "preference_strength",
            "url",
        ]

    def get_url(self, pair) -> str:
        return reverse("api-pair", args=[pair.pk], request=self.context.get("request"))


LIST_FIELDS = (
    "id",
    "external_id",
    "dataset__name",
    "domain",
    "language",
    "preference",
    "preference_strength",
)


class DatasetList(generics.ListAPIView):
    serializer_class = DatasetSerializer

    def get_queryset(self):
        return datasets_with_counts(self.request.user)


class DatasetDetail(generics.RetrieveAPIView):
    serializer_class = DatasetSerializer
    lookup_field = "name"

    def get_queryset(self):
        return datasets_with_counts(self.request.user)


FILTERS = [
    OpenApiParameter("dataset", str, description="dataset name"),
    OpenApiParameter("domain", str),
    OpenApiParameter("critic", str, description="only pairs this critic judged"),
]


class PairPagination(PageOrCursor):
    """A pair carries its responses and every critic's judgment: smaller pages by default."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema(parameters=FILTERS)
class PairList(generics.ListAPIView):
    """Numbered pages of full pairs (the default), or with `?cursor=` cursor pages of list
    fields only (each item links to its detail)."""

    serializer_class = PairSerializer
    pagination_class = PairPagination

    def _cursor_mode(self) -> bool:
        return "cursor" in self.request.query_params

    def get_serializer_class(self):
        return PairListItemSerializer if self._cursor_mode() else PairSerializer

    def get_queryset(self):
        params = self.request.query_params
        qs = Pair.objects.filter(dataset__in=visible_datasets(self.request.user))
        if params.get("dataset"):
            qs = qs.filter(dataset__name=params["dataset"])
        if params.get("domain"):
            qs = qs.filter(domain=params["domain"])
        if params.get("critic"):
            qs = qs.filter(judgments__critic__name=params["critic"])
        if self._cursor_mode():
            return qs.select_related("dataset").only(*LIST_FIELDS).order_by("id")
        return _full_pairs(qs)


class PairDetail(generics.RetrieveAPIView):
    """One pair with its texts, the human checklist and every critic's judgment."""

    serializer_class = PairSerializer

    def get_object(self):
        pair = get_pair(self.request.user, self.kwargs["pair_id"])
        return _full_pairs(Pair.objects.filter(pk=pair.pk)).get()


def _full_pairs(qs):
    # Only the columns the serializer shows: a judgment's generated text can be long.
    judgments = (
        critic_judgments.judgment_model()
        .objects.select_related("critic")
        .only("pair_id", "label", "atoms", "source", "critic__name")
    )
    checklists = (
        Checklist.objects.filter(slot=0)
        .select_related("current")
        .only("pair_id", "slot", "current__atoms")
    )
    return (
        qs.select_related("dataset")
        .prefetch_related(
            Prefetch("checklists", queryset=checklists),
            Prefetch("judgments", queryset=judgments),
        )
        .defer("raw_json")
        .order_by("dataset_id", "position", "id")
    )


class ExportView(APIView):
    """Streamed export of one dataset: RationaleRM JSONL (default) or CSV."""

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["rationalerm", "csv"]),
            OpenApiParameter("domain", str),
            OpenApiParameter("critic", str),
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.STR,
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request, name: str):
        dataset = get_dataset(request.user, name)
        fmt = request.query_params.get("format", "rationalerm")
        if fmt not in ("rationalerm", "csv"):
            raise ValidationError({"format": "use rationalerm or csv"})
        rows = iter_csv if fmt == "csv" else iter_rationalerm
        kwargs = {k: request.query_params.get(k, "") for k in ("domain", "critic")}
        content_type = "text/csv" if fmt == "csv" else "application/x-ndjson"
        response = StreamingHttpResponse(rows(dataset, **kwargs), content_type=content_type)
        ext = "csv" if fmt == "csv" else "jsonl"
        response["Content-Disposition"] = f'attachment; filename="{dataset.name}.{ext}"'
        return response
