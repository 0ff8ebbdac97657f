"""AWS Lambda entry points of the conversation bridge (API Gateway WebSocket API): the $connect
authorizer, the route function and the worker; one asset, three functions."""

from glyphmemory.bridge.aws import BridgeDoor

bridge = BridgeDoor()
authorize, route, work = bridge.authorize, bridge.route, bridge.work

__all__ = ["authorize", "route", "work"]
