from django.urls import path

from community import apis

urlpatterns = [
    path("community/comments", apis.CommentPostView.as_view(), name="community-comments"),
    path("community/reactions", apis.ReactionAddView.as_view(), name="community-reactions"),
    path("community/flags", apis.FlagRaiseView.as_view(), name="community-flags"),
    path("community/threads", apis.ThreadView.as_view(), name="community-threads"),
    path("monitor/community/<int:comment_id>/moderate", apis.ModerateView.as_view(), name="community-moderate"),
]
