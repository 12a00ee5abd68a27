"""A call's parameters as Telegram reads them, whichever way the client encoded them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["STRING_FIELDS", "decode_params", "json_value", "keyboard_rows"]

# Form-encoded requests carry every value as a string; non-string fields (chat_id, reply_markup,
# booleans) arrive JSON-encoded. These are the parameters the Bot API types as String only
# (taken from the published method list), which must never be JSON-decoded: a text of "123"
# or a digits-only callback_query_id has to stay a string. (Word lists read better as text.)
STRING_FIELDS: Final = frozenset(
    """action address bio business_connection_id callback_query_id caption
    chat_join_request_query_id comment currency custom_description custom_emoji_id custom_title
    description description_parse_mode emoji emoji_status_custom_emoji_id error_message
    explanation explanation_parse_mode file_id first_name format foursquare_id foursquare_type
    game_short_name gift_id google_place_id google_place_type guest_query_id
    icon_custom_emoji_id inline_message_id inline_query_id invite_link ip_address language_code
    last_name message_effect_id name next_offset old_sticker owned_gift_id parse_mode payload
    performer phone_number photo_url pre_checkout_query_id provider_data provider_token question
    question_parse_mode secret_token shipping_query_id short_description start_parameter
    sticker_format sticker_set_name sticker_type tag telegram_payment_charge_id text
    text_parse_mode title type url username vcard web_app_query_id web_app_url""".split()
)


def decode_params(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turns form-style parameters (every value a string) into the values Telegram sees.

    String-typed Bot API fields stay as they are; others are JSON-decoded when they parse, so
    ``chat_id`` becomes an int and ``reply_markup`` a dict whichever way the client encoded them.
    """
    return {
        name: value if name in STRING_FIELDS else json_value(value) for name, value in raw.items()
    }


def json_value(value: Any) -> Any:
    """Decodes a string holding JSON; returns any other value, plain strings too, unchanged."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def keyboard_rows(params: Mapping[str, Any]) -> list[list[dict[str, Any]]]:
    """Returns the inline keyboard of a call's ``reply_markup`` as rows of button dicts."""
    markup = json_value(params.get("reply_markup"))
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        return []
    return [[b for b in row if isinstance(b, dict)] for row in rows if isinstance(row, list)]
