"""The community API: absent (404 for everyone) while the `community` switch is off."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework import status
from rest_framework.response import Response

from community import selectors, services
from community import serializers as s
from community.models import Reaction
from community.policies import COMMENTS_TABLE, FLAGS_TABLE, REACTIONS_TABLE
from samia.features.apis import FeatureGated
from samia.rls.access import reads, writes
from samia.schema import CURSOR_PARAMETERS, error_responses

OFF = " While the `community` switch is off, every role gets 404."
ThreadPage = inline_serializer(
    "CommunityThreadPage",
    {
        "next": drf.URLField(allow_null=True),
        "previous": drf.URLField(allow_null=True),
        "results": s.ThreadCommentSerializer(many=True),
        "reactions": inline_serializer(
            "CommunityReactionCounts", {kind: drf.IntegerField() for kind in Reaction.Kind.values}
        ),
    },
)


class CommunityView(FeatureGated):
    feature = "community"


class CommentPostView(CommunityView):
    access = {"POST": writes(COMMENTS_TABLE, "insert")}

    @extend_schema(
        request=s.CommentPostSerializer,
        responses={201: s.CommentPostedSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Comment on a delivered reading you are party to; it waits for moderation (client, reader)",
        description="409 with `details.status` when the order is not delivered; 404 when you are not its client "
        "or reader." + OFF,
    )
    def post(self, request):
        data = self.parse(s.CommentPostSerializer, request.data)
        comment = services.comment_post(identity=self.identity, order_id=data["order_id"], body=data["body"])
        return Response(s.CommentPostedSerializer(comment).data, status=status.HTTP_201_CREATED)


class ReactionAddView(CommunityView):
    access = {"POST": writes(REACTIONS_TABLE, "insert")}

    @extend_schema(
        request=s.ReactionAddSerializer,
        responses={201: s.ReactionSerializer, 200: s.ReactionSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="React to a delivered reading you are party to: 201, or 200 when you already had (client, reader)",
        description=OFF.strip(),
    )
    def post(self, request):
        data = self.parse(s.ReactionAddSerializer, request.data)
        reaction, created = services.reaction_add(identity=self.identity, order_id=data["order_id"], kind=data["kind"])
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.ReactionSerializer(reaction).data, status=code)


class FlagRaiseView(CommunityView):
    access = {"POST": writes(FLAGS_TABLE, "insert")}

    @extend_schema(
        request=s.FlagRaiseSerializer,
        responses={201: s.FlagSerializer, 200: s.FlagSerializer, **error_responses(400, 401, 403, 404)},
        summary="Report a comment on a reading you are party to: 201, or 200 for a repeat (client, reader)",
        description="Evidence is `comment:<id>`, `order:<id>`, `media:<id>` (stored as media:<id>:<sha256>) or a "
        "sha256; an id you cannot see is 400. Flagging your own comment is 400." + OFF,
    )
    def post(self, request):
        data = self.parse(s.FlagRaiseSerializer, request.data)
        flag, created = services.flag_raise(
            identity=self.identity, comment_id=data["comment_id"], reason_code=data["reason"], evidence=data["evidence"]
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.FlagSerializer(flag).data, status=code)


class ThreadView(CommunityView):
    access = {"GET": reads(COMMENTS_TABLE)}

    @extend_schema(
        parameters=[s.ThreadQuerySerializer, *CURSOR_PARAMETERS],
        responses={200: ThreadPage, **error_responses(400, 404)},
        summary="A delivered reading's thread: the comments you may see, oldest first, and its reaction counts",
        description="Parties see approved comments and their own; staff see every comment; anyone sees approved "
        "comments while `community_public` is also on. Authors appear as handles (member-xxxxxxxx)." + OFF,
    )
    def get(self, request):
        query = self.parse(s.ThreadQuerySerializer, request.query_params)
        comments = selectors.thread_comments(identity=self.identity, order_id=query["order_id"])
        response = self.paginated(comments, s.ThreadCommentSerializer, ordering="id")
        visible = selectors.thread_sees(identity=self.identity, comments=comments)
        counts = selectors.thread_reactions(identity=self.identity, order_id=query["order_id"], visible=visible)
        response.data["reactions"] = counts
        return response


class ModerateView(CommunityView):
    access = {"POST": writes(COMMENTS_TABLE, "update")}

    @extend_schema(
        request=s.ModerateSerializer,
        responses={201: s.ModeratedSerializer, **error_responses(400, 401, 403, 404, 409)},
        parameters=[OpenApiParameter("comment_id", int, OpenApiParameter.PATH)],
        summary="Approve, hide or remove a comment, or escalate its case (monitor, admin, superadmin)",
        description="Files a moderation action on the thread's case (appealable: hide and remove) and audits "
        "`moderation.community.<action>`. A removed comment is 409." + OFF,
    )
    def post(self, request, comment_id: int):
        data = self.parse(s.ModerateSerializer, request.data)
        comment, action = services.comment_moderate(
            identity=self.identity,
            comment_id=comment_id,
            action=data["action"],
            reason_code=data["reason"],
            evidence=data["evidence"],
        )
        body = s.ModeratedSerializer({"comment": comment, "action": action}).data
        return Response(body, status=status.HTTP_201_CREATED)
