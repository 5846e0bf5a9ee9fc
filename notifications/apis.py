"""The notifications API: the user's own consents, devices and history; admin campaigns and
suppressions; Twilio webhooks and tracking links (verified, then appended to the inbox)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser
from rest_framework.response import Response
from twilio.request_validator import RequestValidator

from notifications import inbox, links, planning, schedule_requests, selectors, services
from notifications import serializers as s
from notifications.models import Consent
from notifications.policies import (
    CAMPAIGNS_TABLE,
    CONSENTS_TABLE,
    DEVICES_TABLE,
    INBOX_TABLE,
    NOTIFICATIONS_TABLE,
    SENDS_TABLE,
    SUPPRESSIONS_TABLE,
)
from samia import secrets
from samia.api import ApiView
from samia.rls.access import StateChange, reads, writes
from samia.schema import CURSOR_PARAMETERS, error_responses, paginated


def _inbox_kick() -> None:
    """Process the inbox soon after this request commits (the periodic job is the safety net)."""
    if settings.NOTIFICATIONS_INBOX_ON_COMMIT:
        from notifications.tasks import process_inbox

        transaction.on_commit(process_inbox.delay)


# ---------------------------------------------------------------------------------------------
# The user's own


class MyNotificationsView(ApiView):
    access = {"GET": reads(SENDS_TABLE)}

    @extend_schema(
        parameters=[s.MySendsQuerySerializer],
        responses={200: s.MySendSerializer(many=True), **error_responses(400, 401)},
        summary="My notifications: my latest sends, newest first",
    )
    def get(self, request):
        query = self.parse(s.MySendsQuerySerializer, request.query_params)
        sends = selectors.send_history(identity=self.identity, limit=query["limit"])
        return Response(s.MySendSerializer(sends, many=True).data)


class MyConsentsView(ApiView):
    access = {"GET": reads(CONSENTS_TABLE)}

    @extend_schema(
        responses={200: s.ConsentStateSerializer(many=True), **error_responses(401)},
        summary="My current consent for each channel and purpose",
    )
    def get(self, request):
        return Response(s.ConsentStateSerializer(selectors.consent_list(user_id=request.user.pk), many=True).data)


class _ConsentChangeView(ApiView):
    access = {"POST": writes(CONSENTS_TABLE, "insert")}
    granted: bool

    def post(self, request):
        data = self.parse(s.ConsentChangeSerializer, request.data)
        services.consent_record(
            user_id=request.user.pk,
            channel=data["channel"],
            purpose=data["purpose"],
            granted=self.granted,
            source=Consent.Source.API,
            actor=self.identity,
        )
        current = [
            c
            for c in selectors.consent_list(user_id=request.user.pk)
            if c["channel"] == data["channel"] and c["purpose"] == data["purpose"]
        ]
        return Response(s.ConsentStateSerializer(current[0]).data, status=status.HTTP_201_CREATED)


class OptInView(_ConsentChangeView):
    granted = True

    @extend_schema(
        request=s.ConsentChangeSerializer,
        responses={201: s.ConsentStateSerializer, **error_responses(400, 401)},
        summary="Opt in to a channel and purpose",
    )
    def post(self, request):
        return super().post(request)


class OptOutView(_ConsentChangeView):
    granted = False

    @extend_schema(
        request=s.ConsentChangeSerializer,
        responses={201: s.ConsentStateSerializer, **error_responses(400, 401)},
        summary="Opt out of a channel and purpose (applies at once, also to planned sends)",
    )
    def post(self, request):
        return super().post(request)


class MyDevicesView(ApiView):
    access = {"GET": reads(DEVICES_TABLE), "POST": writes(DEVICES_TABLE, "insert")}

    @extend_schema(
        responses={200: s.DeviceSerializer(many=True), **error_responses(401)},
        summary="My registered push devices",
    )
    def get(self, request):
        devices = selectors.device_list(identity=self.identity)
        return Response(s.DeviceSerializer(devices, many=True).data)

    @extend_schema(
        request=s.DeviceRegisterSerializer,
        responses={201: s.DeviceSerializer, **error_responses(400, 401)},
        summary="Register (or refresh) a push token for this device",
    )
    def post(self, request):
        data = self.parse(s.DeviceRegisterSerializer, request.data)
        device = services.device_register(user=request.user, platform=data["platform"], token=data["token"])
        return Response(s.DeviceSerializer(device).data, status=status.HTTP_201_CREATED)


class MyDeviceView(ApiView):
    access = {"DELETE": writes(DEVICES_TABLE, "update")}

    @extend_schema(responses={204: None, **error_responses(401, 404)}, summary="Stop pushing to one of my devices")
    def delete(self, request, device_id: int):
        device = selectors.device_get(identity=self.identity, device_id=device_id, operation="update")
        services.device_deactivate(device, "user_removed")
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------------------------
# Admin


NEWEST_FIRST = {"ordering": ("-created_at", "-id"), "max_page_size": 200}


class CampaignsView(ApiView):
    access = {"GET": reads(CAMPAIGNS_TABLE), "POST": writes(CAMPAIGNS_TABLE, "insert")}

    @extend_schema(
        parameters=CURSOR_PARAMETERS,
        responses={200: paginated(s.CampaignSerializer), **error_responses(401, 403, 404)},
        summary="Campaigns, newest first (admin)",
    )
    def get(self, request):
        return self.paginated(selectors.campaign_list(identity=self.identity), s.CampaignSerializer, **NEWEST_FIRST)

    @extend_schema(
        request=s.CampaignCreateSerializer,
        responses={201: s.CampaignSerializer, **error_responses(400, 401, 403)},
        summary="Create a campaign: audience, channel, a template per language, local send time (admin)",
    )
    def post(self, request):
        data = self.parse(s.CampaignCreateSerializer, request.data)
        campaign = planning.campaign_create(identity=self.identity, data=data)
        return Response(s.CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignView(ApiView):
    access = {"GET": reads(CAMPAIGNS_TABLE)}

    @extend_schema(responses={200: s.CampaignSerializer, **error_responses(401, 403, 404)}, summary="One campaign")
    def get(self, request, campaign_id: int):
        return Response(
            s.CampaignSerializer(selectors.campaign_get(identity=self.identity, campaign_id=campaign_id)).data
        )


class CampaignScheduleView(ApiView):
    access = {"POST": writes(SENDS_TABLE, "insert")}

    @extend_schema(
        request=None,
        responses={**dict.fromkeys((200, 202), s.ScheduleResultSerializer), **error_responses(401, 403, 404, 409)},
        summary="Activate a campaign, plan a send per recipient in their timezone (idempotent, admin; 202: a job)",
    )
    def post(self, request, campaign_id: int):
        campaign, created = schedule_requests.campaign_schedule_request(identity=self.identity, campaign_id=campaign_id)
        data = {"campaign": s.CampaignSerializer(campaign).data, "created": created, "queued": created is None}
        return Response(data, status=202 if created is None else 200)


class CampaignPauseView(ApiView):
    access = {"POST": StateChange(CAMPAIGNS_TABLE, "status", ("scheduled",), "paused")}
    pause = True

    @extend_schema(
        request=None,
        responses={200: s.CampaignSerializer, **error_responses(401, 403, 404, 409)},
        summary="Pause a scheduled campaign: nothing more goes out until it is resumed (admin)",
    )
    def post(self, request, campaign_id: int):
        campaign = planning.campaign_pause(identity=self.identity, campaign_id=campaign_id, pause=self.pause)
        return Response(s.CampaignSerializer(campaign).data)


class CampaignResumeView(CampaignPauseView):
    access = {"POST": StateChange(CAMPAIGNS_TABLE, "status", ("paused",), "scheduled")}
    pause = False

    @extend_schema(
        request=None,
        responses={200: s.CampaignSerializer, **error_responses(401, 403, 404, 409)},
        summary="Resume a paused campaign (admin)",
    )
    def post(self, request, campaign_id: int):
        return super().post(request, campaign_id)


class CampaignStatsView(ApiView):
    access = {"GET": reads(CAMPAIGNS_TABLE)}

    @extend_schema(
        responses={200: s.CampaignStatsSerializer, **error_responses(401, 403, 404)},
        summary="Campaign funnel: planned, sent, delivered, opened, clicked, bounced, suppressed, opted out, failed",
    )
    def get(self, request, campaign_id: int):
        campaign = selectors.campaign_get(identity=self.identity, campaign_id=campaign_id)
        return Response(selectors.campaign_stats(campaign=campaign))


class CampaignPreviewView(ApiView):
    access = {"GET": reads(CAMPAIGNS_TABLE)}

    @extend_schema(
        parameters=[s.PreviewQuerySerializer],
        responses={
            200: OpenApiResponse(description="The template in that language; SMS: text, encoding, segments"),
            **error_responses(400, 401, 403, 404),
        },
        summary="Preview a campaign's message in one language (admin)",
    )
    def get(self, request, campaign_id: int):
        query = self.parse(s.PreviewQuerySerializer, request.query_params)
        campaign = selectors.campaign_get(identity=self.identity, campaign_id=campaign_id)
        return Response(selectors.campaign_preview(campaign=campaign, language=query["language"], count=True))


class SuppressionsView(ApiView):
    access = {"GET": reads(SUPPRESSIONS_TABLE), "POST": writes(SUPPRESSIONS_TABLE, "insert")}

    @extend_schema(
        parameters=[s.SuppressionQuerySerializer, *CURSOR_PARAMETERS],
        responses={200: paginated(s.SuppressionSerializer), **error_responses(400, 401, 403, 404)},
        summary="Suppressions, newest first (admin: all; a user: their own)",
    )
    def get(self, request):
        query = self.parse(s.SuppressionQuerySerializer, request.query_params)
        rows = selectors.suppression_list(
            identity=self.identity,
            channel=query.get("channel"),
            active=query.get("active"),
            user_id=query.get("user_id"),
        )
        return self.paginated(rows, s.SuppressionSerializer, **NEWEST_FIRST)

    @extend_schema(
        request=s.SuppressionCreateSerializer,
        responses={201: s.SuppressionSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Suppress a user or an address on a channel (admin)",
    )
    def post(self, request):
        data = self.parse(s.SuppressionCreateSerializer, request.data)
        if data.get("user_id"):
            selectors.recipient_get(user_id=data["user_id"])
        suppression = services.suppression_add(
            channel=data["channel"],
            reason=data["reason"],
            actor=self.identity,
            user_id=data.get("user_id"),
            address=data.get("address", ""),
            note=data["note"],
        )
        return Response(s.SuppressionSerializer(suppression).data, status=status.HTTP_201_CREATED)


class SuppressionLiftView(ApiView):
    access = {"POST": writes(SUPPRESSIONS_TABLE, "update")}

    @extend_schema(
        request=s.SuppressionLiftSerializer,
        responses={200: s.SuppressionSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Lift a suppression (admin)",
    )
    def post(self, request, suppression_id: int):
        data = self.parse(s.SuppressionLiftSerializer, request.data)
        suppression = services.suppression_lift(
            suppression_id=suppression_id, actor=self.identity, reason=data["reason"]
        )
        return Response(s.SuppressionSerializer(suppression).data)


class NotifyView(ApiView):
    access = {"POST": writes(NOTIFICATIONS_TABLE, "insert")}

    @extend_schema(
        request=s.NotifySerializer,
        responses={201: s.NotificationSerializer, **error_responses(400, 401, 403, 404)},
        summary="Send one transactional message to one user (admin)",
    )
    def post(self, request):
        data = self.parse(s.NotifySerializer, request.data)
        notification = services.notify(
            user_id=data["user_id"],
            kind=data["kind"],
            title=data["title"],
            body=data["body"],
            channels=tuple(dict.fromkeys(data["channels"])),
            critical=data["critical"],
            actor=self.identity,
        )
        sends = selectors.notification_send_list(notification=notification)
        body = {"id": notification.pk, "kind": notification.kind, "critical": notification.critical, "sends": sends}
        return Response(body, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# Webhooks and tracking (no identity: proven by signature, stored once)


class Refused(PermissionDenied):
    """403 for anything unsigned, forged, expired or replayed; `reason` says which (no secrets)."""

    def __init__(self, reason: str):
        super().__init__("The request is not signed, or its signature is invalid, expired or replayed.")
        self.extra = {"reason": reason}


class _TwilioWebhook(ApiView):
    authentication_classes = []
    parser_classes = [FormParser]

    def verified_form(self, request) -> dict:
        # The token set through the keyring (manage.py secrets_set twilio_auth_token), else the setting.
        token = secrets.credential("twilio_auth_token") or settings.TWILIO_AUTH_TOKEN
        if not token:
            raise Refused("not_configured")
        signature = request.headers.get("X-Twilio-Signature", "")
        url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
        form = request.POST.dict()
        if not signature or not RequestValidator(token).validate(url, form, signature):
            raise Refused("bad_signature")
        if settings.TWILIO_ACCOUNT_SID and form.get("AccountSid") != settings.TWILIO_ACCOUNT_SID:
            raise Refused("wrong_account")
        if any("\x00" in text for pair in (*form.items(), *request.GET.items()) for text in pair):
            raise ValidationError({"form": ["No field may hold a null character."]})  # Postgres text cannot
        return form

    @staticmethod
    def channel_of(address: str) -> str:
        return "whatsapp" if address.startswith("whatsapp:") else "sms"


class TwilioStatusView(_TwilioWebhook):
    access = {"POST": writes(INBOX_TABLE, "insert")}

    @extend_schema(
        request=None,
        responses={204: None, **error_responses(403)},
        summary="Twilio message status callback (X-Twilio-Signature)",
    )
    def post(self, request):
        form = self.verified_form(request)
        sid, state = form.get("MessageSid", ""), form.get("MessageStatus", "")
        if not sid or not state:
            raise Refused("incomplete")
        payload = {
            "sid": sid,
            "status": state,
            "error_code": form.get("ErrorCode", ""),
            "send": request.GET.get("send", "")[:20],
        }
        fingerprint = inbox.digest("status", sid, state, form.get("ErrorCode", ""))
        if not inbox.append("status", self.channel_of(form.get("To", "")), fingerprint, payload):
            raise Refused("replayed")
        _inbox_kick()
        return Response(status=status.HTTP_204_NO_CONTENT)


class TwilioInboundView(_TwilioWebhook):
    access = {"POST": writes(INBOX_TABLE, "insert")}

    @extend_schema(
        request=None,
        responses={200: OpenApiResponse(description="TwiML"), **error_responses(403)},
        summary="Twilio inbound SMS/WhatsApp: STOP/START/HELP keywords (X-Twilio-Signature)",
    )
    def post(self, request):
        form = self.verified_form(request)
        sid, sender = form.get("MessageSid", ""), form.get("From", "")
        if not sid or not sender:
            raise Refused("incomplete")
        channel = self.channel_of(sender)
        number = sender.removeprefix("whatsapp:")
        word = services.keyword(form.get("Body", ""), form.get("OptOutType", ""))
        payload = {"sid": sid, "from": number, "keyword": word, "opt_out_type": form.get("OptOutType", "")[:16]}
        if not inbox.append("inbound", channel, inbox.digest("inbound", sid), payload):
            raise Refused("replayed")
        _inbox_kick()
        reply = f"<Message>{escape(services.help_text(number))}</Message>" if word == "help" else ""
        return HttpResponse(
            f'<?xml version="1.0" encoding="UTF-8"?><Response>{reply}</Response>', content_type="text/xml"
        )


class TrackingView(ApiView):
    authentication_classes = []
    access = {"GET": writes(INBOX_TABLE, "insert")}
    kind = "open"

    @extend_schema(
        responses={204: None, 302: None, **error_responses(403)},
        summary="A signed open or click link (HMAC, key id, expiry; works on every tap, counted once)",
    )
    def get(self, request, token: str):
        try:
            send_id, target = links.verify(token, self.kind)
        except links.LinkError as error:
            raise Refused(error.code) from None
        counted = links.counted(self.kind, request.method, request.headers)
        if counted and inbox.append(self.kind, "", inbox.digest("tracking", token), {"send_id": send_id}):
            _inbox_kick()  # the first counted hit only; every valid tap is answered
        if self.kind == "click" and target:
            return HttpResponseRedirect(target)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClickView(TrackingView):
    kind = "click"
