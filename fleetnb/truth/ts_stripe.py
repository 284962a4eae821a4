"""stripe-node calls, mapped onto the Python StripeClient index the checks read.

stripe-node spells the Python client's services in camelCase without the ``v1``
level (``stripe.paymentIntents.create`` is ``client.v1.payment_intents.create``),
and flattens sub-resources into verbs (``customers.createTaxId`` is
``customers.tax_ids.create``). Calls keep their own spelling in ``ModuleCall.shown``
for findings, and a name stripe-node spells otherwise (``delete`` for ``del``) is
reported even where the Python name exists.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from fleetnb.truth.calls import STRIPE_CLIENT, ModuleCall, Ref
from fleetnb.truth.shapes import KeyTree
from fleetnb.truth.stripe_index import StripeIndex, StripeService
from fleetnb.truth.ts_syntax import Node, call_arguments, object_keys, position

__all__ = [
    "camel",
    "node_misspelling",
    "node_names",
    "snake",
    "stripe_call",
    "stripe_node_chain",
]

# stripe-node members with no StripeClient counterpart: helpers, not API methods.
_NODE_ONLY = frozenset(
    {
        "webhooks",
        "errors",
        "on",
        "off",
        "once",
        "rawRequest",
        "StripeResource",
        "getApiField",
        "getConstant",
        "getClientUserAgent",
        "getClientUserAgentSeeded",
        "getMaxNetworkRetries",
        "getTelemetryEnabled",
        "setApiKey",
        "setAppInfo",
        "setHost",
        "setPort",
        "setProtocol",
        "setTimeout",
        "setHttpAgent",
        "setMaxNetworkRetries",
        "setTelemetryEnabled",
        "parseThinEvent",
        "parseEventNotification",
        "createFetchHttpClient",
        "createNodeHttpClient",
        "createSubtleCryptoProvider",
        "createNodeCryptoProvider",
    }
)
# A last argument with any of these keys is request options, not params (stripe-node's
# isOptionsHash).
_OPTION_KEYS = frozenset(
    {
        "apiKey",
        "idempotencyKey",
        "stripeAccount",
        "apiVersion",
        "maxNetworkRetries",
        "timeout",
        "apiBase",
        "host",
        "authenticator",
        "stripeContext",
        "headers",
        "additionalHeaders",
        "streaming",
    }
)
# A capital after a lowercase letter or digit, or one that starts a word after an
# acronym: threeDSecure is three_d_secure.
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
# stripe-node nouns whose Python sub-service has another name.
_NODE_NOUNS = {"preview_line_items": "preview_lines"}


def snake(name: str) -> str:
    """stripe-node's name for a service or method, as the Python SDK spells it."""
    return "delete" if name == "del" else _CAMEL.sub("_", name).lower()


def stripe_call(node: Node, ref: Ref, strings: Mapping[str, str]) -> ModuleCall | None:
    """``stripe.paymentIntents.retrieve('pi_1', {...})`` as a StripeClient call."""
    names = ref.chain
    if names[0] in _NODE_ONLY:
        return None
    chain = tuple(snake(name) for name in names)
    if chain[0] not in ("v1", "v2"):
        chain = ("v1", *chain)
    args = call_arguments(node)
    keys = [object_keys(arg, strings) for arg in args]
    if keys and keys[-1] is not None and not _OPTION_KEYS.isdisjoint(keys[-1].keys):
        keys.pop()  # request options ({ stripeAccount }), which stripe-node takes last
    line, column = position(node)
    return ModuleCall(
        STRIPE_CLIENT,
        chain,
        line,
        column,
        KeyTree(),  # JavaScript has no keyword arguments: params come positionally
        args=tuple(keys),
        spread=any(arg.type == "spread_element" for arg in args),
        shown=".".join(("stripe", *names)),
    )


def camel(name: str) -> str:
    """A Python SDK name as stripe-node spells it: ``list_payment_methods``, ``listPaymentMethods``.

    The inverse of ``snake``, for suggestions drawn from the Python index.
    """
    if name == "delete":
        return "del"
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def stripe_node_chain(index: StripeIndex, call: ModuleCall) -> ModuleCall:
    """The Python client's chain for a stripe-node call; unknown calls are returned as they are.

    ``customers.createTaxId(id, {...})`` is ``customers.tax_ids.create(id, {...})``, and
    services the Python client keeps beside ``v1`` rather than in it (``oauth``) lose the ``v1``.
    """
    client, v1 = index.services.get("client"), index.services.get("client.v1")
    if client and v1 and call.chain[0] == "v1" and len(call.chain) > 1:
        first = call.chain[1]
        if first not in v1.children and first in client.children:
            call = dataclasses.replace(call, chain=call.chain[1:])
    service = _service(index, call.chain[:-1])
    last = call.chain[-1]
    if service is None or last in service.names() or "_" not in last:
        return call
    verb, _, noun = last.partition("_")
    for child in _sub_resources(index, verb, noun, service.children):
        target = index.services.get(service.children[child])
        if target is not None and verb in target.methods:
            return dataclasses.replace(call, chain=(*call.chain[:-1], child, verb))
    return call


def node_misspelling(index: StripeIndex, call: ModuleCall) -> tuple[int, str | None] | None:
    """Where a stripe-node call (mapped by ``stripe_node_chain``) names what stripe-node lacks,
    and stripe-node's own name for it; None when every name is stripe-node's.

    The Python names a call maps onto may exist where stripe-node spells them otherwise:
    ``customers.delete`` (stripe-node has ``del``), ``payment_intents`` (``paymentIntents``),
    or a sub-resource called as a method (``checkout.sessions.lineItems(id)``).
    """
    written = (call.shown or "").split(".")[1:]
    for at, name in enumerate(written):
        if camel(snake(name)) != name:
            return at, camel(snake(name))
    last = _service(index, call.chain)
    if last is None or not written:
        return None  # a method, or unknown: the walk over the index reports it
    verbs = sorted(last.methods, key=lambda verb: (verb != "list", verb))
    noun = call.chain[-1]
    return len(written) - 1, camel(f"{verbs[0]}_{noun}") if verbs else None


def node_names(index: StripeIndex, service: StripeService) -> set[str]:
    """What stripe-node offers where the Python ``service`` is, in Python spelling, for
    suggestions: no ``_async`` twins, and sub-resources' methods flattened
    (``create_tax_id``, ``list_tax_ids``)."""
    names = {name for name in service.names() if not name.endswith("_async")}
    for child, key in service.children.items():
        sub = index.services.get(key)
        singular = child[:-3] + "y" if child.endswith("ies") else child.removesuffix("s")
        for verb in sub.methods if sub is not None else ():
            if not verb.endswith("_async"):
                names.add(f"{verb}_{child if verb == 'list' else singular}")
    return names


def _service(index: StripeIndex, chain: tuple[str, ...]) -> StripeService | None:
    """The service ``client.<chain>`` names, or None if the chain does not name one."""
    service = index.services.get("client")
    for attr in chain:
        if service is None or attr not in service.children:
            return None
        service = index.services.get(service.children[attr])
    return service


def _sub_resources(
    index: StripeIndex, verb: str, noun: str, children: Mapping[str, str]
) -> list[str]:
    """The children a stripe-node method's noun names, in stripe-node's grammar:
    ``listTaxIds`` and ``createTaxId`` (plural only to list) are ``tax_ids``;
    ``createSource`` is ``payment_sources``; ``listSourceTransactions`` of ``sources``
    is ``transactions``; a child that cannot be listed (``cash_balance``,
    ``funding_instructions``) is one object, named as it is.
    """
    noun = _NODE_NOUNS.get(noun, noun)
    if verb == "list":
        forms = [noun]
    else:
        plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
        forms = [plural, noun + "es", *_singletons(index, noun, children)]
    forms += [form.split("_", 1)[1] for form in forms if "_" in form]
    exact = [form for form in forms if form in children]
    suffixed = [c for c in sorted(children) if any(c.endswith("_" + form) for form in forms)]
    return exact + suffixed


def _singletons(index: StripeIndex, noun: str, children: Mapping[str, str]) -> list[str]:
    child = index.services.get(children.get(noun, ""))
    return [noun] if child is not None and "list" not in child.methods else []
