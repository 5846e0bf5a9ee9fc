"""Hold, unlist and release on the order page: moderation's buttons, each calling order_moderate with a reason."""

from django.utils.translation import gettext_lazy as _

from moderation import services
from moderation.admin.common import ReasonInput
from moderation.models import ModerationAction
from samia.marketplace.admin import OrderButton, order_button_register

Code = ModerationAction.Code


def _moderate(action: str):
    def run(identity, order, data):
        # The order's client is the subject: the action restricts their order (the case page picks the reader too).
        return services.order_moderate(
            identity=identity, order_id=order.pk, action=action, reason_code=data["reason"].code, evidence=[]
        )

    return run


order_button_register(Code.HOLD, OrderButton(_("Hold"), _moderate(Code.HOLD), ReasonInput, danger=True))
order_button_register(Code.UNLIST, OrderButton(_("Unlist"), _moderate(Code.UNLIST), ReasonInput, danger=True))
order_button_register(Code.RELEASE, OrderButton(_("Release"), _moderate(Code.RELEASE), ReasonInput))
