"""POST /api/v1/reward: the hybrid reward for RL loops, one item or a list of them.

Serializers validate each item on its own, so one bad item comes back as that item's error
while the others are scored; the service decides everything else."""

from __future__ import annotations

import os

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from annotate.records import RecordError, parse_label
from metajudge.reward.score import RewardInput, reward_score

MAX_BATCH = int(os.environ.get("REWARD_MAX_BATCH", "512"))
MAX_TEXT = 256 * 1024


class RewardThrottle(UserRateThrottle):
    """Its own budget: a training loop calls far more often than a person."""

    scope = "reward"

    def get_rate(self) -> str:
        return os.environ.get("REWARD_RATE_LIMIT", "1000/s")


class InlinePairSerializer(serializers.Serializer):
    human_atoms = serializers.ListField(
        child=serializers.CharField(max_length=2000), min_length=1, max_length=50
    )
    preference = serializers.JSONField(help_text="1 or 2 (or A/B, or HelpSteer3 -3..3); 0 tie")

    def validate_preference(self, value):
        try:
            return parse_label(value, what="preference")
        except RecordError as exc:
            raise serializers.ValidationError(str(exc)) from None


class RewardItemSerializer(serializers.Serializer):
    pair_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    pair = InlinePairSerializer(required=False)
    generated_text = serializers.CharField(
        max_length=MAX_TEXT, allow_blank=True, trim_whitespace=False
    )
    atoms = serializers.ListField(
        child=serializers.CharField(max_length=2000), required=False, max_length=50
    )
    matcher = serializers.ChoiceField(choices=["offline", "llm"], required=False)
    endpoint = serializers.CharField(required=False, allow_blank=True, max_length=100)
    lambda_ = serializers.FloatField(required=False, min_value=0, max_value=1000)

    def to_internal_value(self, data):
        if isinstance(data, dict) and "lambda" in data:
            data = {**data, "lambda_": data["lambda"]}
        return super().to_internal_value(data)

    def validate(self, attrs):
        if ("pair_id" in attrs) == ("pair" in attrs):
            raise serializers.ValidationError("give exactly one of pair_id and pair")
        return attrs


class RewardResultSerializer(serializers.Serializer):
    pair_id = serializers.IntegerField(allow_null=True)
    label = serializers.IntegerField(required=False)
    atoms = serializers.ListField(child=serializers.CharField(), required=False)
    outcome_reward = serializers.FloatField(allow_null=True, required=False)
    rationale_reward = serializers.FloatField(required=False)
    hybrid_reward = serializers.FloatField(required=False)
    error = serializers.CharField(required=False)


LLM_RULES = (
    "matcher=llm asks a judge endpoint and spends its budget: it is only for reviewers of the "
    "pair's dataset (users who may start its runs; an inline pair needs the reviewer role in "
    "some dataset), and each user has a quota of REWARD_LLM_QUOTA fresh judge questions per "
    "REWARD_LLM_QUOTA_WINDOW seconds (default 10000 per day; answers from the shared cache are "
    "free). Items refused either way come back with an error."
)
OPTIONS = [
    OpenApiParameter(
        "matcher", str, enum=["offline", "llm"], description=f"default offline. {LLM_RULES}"
    ),
    OpenApiParameter("endpoint", str, description="judge endpoint name, for matcher=llm"),
    OpenApiParameter("lambda", float, description="weight of the rationale reward, default 1"),
]


class RewardView(APIView):
    throttle_classes = [RewardThrottle]

    @extend_schema(
        description="The hybrid reward for one item or a list of them. " + LLM_RULES,
        parameters=OPTIONS,
        request=RewardItemSerializer(many=True),
        responses=RewardResultSerializer(many=True),
    )
    def post(self, request):
        single = isinstance(request.data, dict)
        raw = [request.data] if single else request.data
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_BATCH:
            raise ValidationError(f"send one item (an object) or a list of 1..{MAX_BATCH} items")
        defaults = self._defaults(request.query_params)
        inputs, errors = [], {}
        for index, data in enumerate(raw):
            serializer = RewardItemSerializer(data=data)
            if serializer.is_valid():
                inputs.append(_input(serializer.validated_data, defaults))
            else:
                errors[index] = serializer.errors
        scored = iter(reward_score(user=request.user, items=inputs))
        out = [{"error": errors[i]} if i in errors else next(scored) for i in range(len(raw))]
        return Response(out[0] if single else out)

    @staticmethod
    def _defaults(params) -> dict:
        try:
            lam = float(params.get("lambda", 1.0))
        except ValueError:
            raise ValidationError({"lambda": "a number"}) from None
        matcher = params.get("matcher", "offline")
        if matcher not in ("offline", "llm"):
            raise ValidationError({"matcher": "offline or llm"})
        return {"matcher": matcher, "endpoint": params.get("endpoint", ""), "lam": lam}


def _input(data: dict, defaults: dict) -> RewardInput:
    pair = data.get("pair") or {}
    return RewardInput(
        generated_text=data["generated_text"],
        pair_id=data.get("pair_id"),
        human_atoms=pair.get("human_atoms"),
        preference=pair.get("preference"),
        atoms=data.get("atoms"),
        matcher=data.get("matcher", defaults["matcher"]),
        endpoint=data.get("endpoint", defaults["endpoint"]),
        lam=data.get("lambda_", defaults["lam"]),
    )
