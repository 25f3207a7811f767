"""PROMPT_DECORATOR and PROMPT_TEMPLATE: request transformations (WSO2's), run in the list's
order with the guardrails.

- A decorator adds its messages before the caller's (or after, with `append`). On an
  Anthropic API, `system` decorations join the request's `system` text (the Messages API has
  no system role in `messages`).
- A template is named in the request's text as `template://<name>?key=value&...` (WSO2's
  form); the reference is replaced by the template's prompt with each `[[key]]` filled from
  the query (percent-decoded). An unknown template or a missing key is the caller's 400.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import regex

from aigw.common.guardrails import PromptDecoratorParams, PromptTemplateParams
from aigw.gateway.errors import Refused
from aigw.gateway.guardrails.text import Selector, WireFormat
from aigw.gateway.invocation import Invocation
from aigw.gateway.policies.base import PolicyRun

_REFERENCE = regex.compile(r"template://([A-Za-z0-9][A-Za-z0-9_-]*)(?:\?(\S*))?")
_PLACEHOLDER = regex.compile(r"\[\[([^\[\]]+)\]\]")


class _RequestOnly(PolicyRun):
    __slots__ = ("policy",)

    def __init__(self, policy: Any) -> None:
        self.policy = policy

    async def on_request(self, call: Invocation) -> None:
        if isinstance(call.parsed, dict):
            changed = self.policy.transform(call.parsed)
            if changed is not call.parsed:
                call.replace_json(changed)


@dataclass(slots=True)  # not frozen: `Policy.name` is a plain attribute
class DecoratorPolicy:
    name: str
    params: PromptDecoratorParams
    wire: WireFormat

    def start(self, call: Invocation) -> PolicyRun | None:
        return _RequestOnly(self)

    def transform(self, request: dict[str, Any]) -> dict[str, Any]:
        messages = request.get("messages")
        if not isinstance(messages, list):
            return request
        added = [{"role": d.role, "content": d.content} for d in self.params.decoration]
        request = dict(request)
        if self.wire == "anthropic":
            system = [m["content"] for m in added if m["role"] == "system"]
            added = [m for m in added if m["role"] != "system"]
            if system:
                request["system"] = self._joined(request.get("system"), "\n".join(system))
        request["messages"] = [*messages, *added] if self.params.append else [*added, *messages]
        return request

    def _joined(self, system: Any, decoration: str) -> Any:
        if isinstance(system, list):  # text blocks
            block = {"type": "text", "text": decoration}
            return [*system, block] if self.params.append else [block, *system]
        if not isinstance(system, str) or not system:
            return decoration
        return f"{system}\n{decoration}" if self.params.append else f"{decoration}\n{system}"


@dataclass(slots=True)  # not frozen: `Policy.name` is a plain attribute
class TemplatePolicy:
    name: str
    templates: Mapping[str, str]
    selector: Selector

    @classmethod
    def compile(
        cls, name: str, params: PromptTemplateParams, selector: Selector
    ) -> "TemplatePolicy":
        return cls(name, {t.name: t.prompt for t in params.templates}, selector)

    def start(self, call: Invocation) -> PolicyRun | None:
        return _RequestOnly(self)

    def transform(self, request: dict[str, Any]) -> Any:
        return self.selector.replace(request, self.filled)

    def filled(self, text: str) -> str:
        if "template://" not in text:
            return text
        return _REFERENCE.sub(self._expand, text)

    def _expand(self, reference: regex.Match[str]) -> str:
        name = reference.group(1)
        prompt = self.templates.get(name)
        if prompt is None:
            known = ", ".join(sorted(self.templates))
            message = f"This API has no prompt template '{name}' (it has: {known})."
            raise Refused(400, message, "unknown_prompt_template")
        values = dict(parse_qsl(reference.group(2) or "", keep_blank_values=True))

        def value(placeholder: regex.Match[str]) -> str:
            key = placeholder.group(1)
            if key not in values:
                message = f"The prompt template '{name}' needs a value for '{key}'."
                raise Refused(400, message, "prompt_template_parameter_missing")
            return str(values[key])

        return _PLACEHOLDER.sub(value, prompt)
