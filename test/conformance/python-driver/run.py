"""Drives PubNub's real Python SDK (from its public source, on PYTHONPATH) against a running Parley.

Not part of CI (the conformance suite is): a by-hand check of the facts recorded in
test/conformance/sdks/python.ts. Each step calls one public SDK method and prints one JSON line
{"step", "ok", "detail"}; the last line is a summary. Every wait is bounded.

Usage: PYTHONPATH=<python sdk checkout> python3 run.py ORIGIN PUB SUB [SECRET]
With SECRET, the client holds the secret key (every request signed, Access Manager calls run).
"""
import json
import os
import sys
import threading
import time

from pubnub.pnconfiguration import PNConfiguration
from pubnub.pubnub import PubNub
from pubnub.callbacks import SubscribeCallback
from pubnub.enums import PNStatusCategory
from pubnub.models.consumer.message_actions import PNMessageAction
from pubnub.models.consumer.objects_v2.memberships import PNChannelMembership
from pubnub.models.consumer.v3.channel import Channel

WAIT_SEC = 5

origin, pub, sub = sys.argv[1], sys.argv[2], sys.argv[3]
secret = sys.argv[4] if len(sys.argv) > 4 else None
prefix = 'pyd-signed' if secret else 'pyd'
ch, ch2, cg, user = f'{prefix}-ch', f'{prefix}-ch2', f'{prefix}-cg', f'{prefix}-user'

config = PNConfiguration()
config.publish_key = pub
config.subscribe_key = sub
config.user_id = user
config.origin = origin
config.ssl = False
config.non_subscribe_request_timeout = WAIT_SEC
config.connect_timeout = WAIT_SEC
if secret:
    config.secret_key = secret
pubnub = PubNub(config)

results = []
state = {}


def step(name, fn):
    try:
        detail = fn()
        results.append({'step': name, 'ok': True, 'detail': detail})
    except Exception as err:  # noqa: BLE001 - every failure is a finding to print
        status = getattr(err, 'status', None)
        code = getattr(status, 'status_code', None) if status is not None else None
        results.append({'step': name, 'ok': False, 'detail': f'{type(err).__name__}: {str(err)[:300]}', 'http': code})
    print(json.dumps(results[-1]), flush=True)


class Listener(SubscribeCallback):
    def __init__(self):
        self.connected = threading.Event()
        self.got_message = threading.Event()
        self.received = None

    def status(self, pn, status):
        if status.category == PNStatusCategory.PNConnectedCategory:
            self.connected.set()

    def message(self, pn, message):
        self.received = message.message
        self.got_message.set()

    def presence(self, pn, presence):
        pass


def subscribe_and_receive():
    listener = Listener()
    pubnub.add_listener(listener)
    pubnub.subscribe().channels(ch).execute()
    if not listener.connected.wait(WAIT_SEC):
        raise RuntimeError('no PNConnectedCategory')
    pubnub.publish().channel(ch).message({'live': 1}).sync()
    if not listener.got_message.wait(WAIT_SEC):
        raise RuntimeError('message not received')
    pubnub.unsubscribe_all()
    return listener.received


def publish():
    env = pubnub.publish().channel(ch).message({'text': 'hello'}).meta({'k': 'v'}).should_store(True).sync()
    state['tt'] = env.result.timetoken
    return env.result.timetoken


def send_file():
    env = pubnub.send_file().channel(ch).file_name('note.txt').file_object(b'hello from python').message({'hi': 1}).sync()
    state['file_id'] = env.result.file_id
    return env.result.file_id


def add_action():
    action = PNMessageAction()
    action.type, action.value, action.message_timetoken = 'reaction', 'smiley', str(state['tt'])
    env = pubnub.add_message_action().channel(ch).message_action(action).sync()
    state['action_tt'] = env.result.action_timetoken
    return env.result.action_timetoken


def grant_token_and_parse():
    env = pubnub.grant_token().channels([Channel.id(ch).read().write()]).ttl(15).authorized_uuid(user).sync()
    state['token'] = env.result.token
    parsed = pubnub.parse_token(env.result.token)
    return {'length': len(env.result.token), 'ttl': parsed['ttl']}


step('time', lambda: int(pubnub.time().sync().result))
step('publish GET', publish)
step('publish POST', lambda: pubnub.publish().channel(ch).message({'text': 'post'}).use_post(True).sync().result.timetoken)
step('fire', lambda: pubnub.fire().channel(ch).message({'f': 1}).sync().result.timetoken)
step('signal', lambda: pubnub.signal().channel(ch).message({'typing': True}).sync().result.timetoken)
step('subscribe + receive', subscribe_and_receive)
step('heartbeat', lambda: pubnub.heartbeat().channels(ch).sync().result)
step('here_now', lambda: pubnub.here_now().channels(ch).sync().result.total_occupancy)
step('where_now', lambda: pubnub.where_now().uuid(user).sync().result.channels)
step('set state', lambda: pubnub.set_state().channels(ch).state({'mood': 'ok'}).sync().result.state)
step('get state', lambda: pubnub.get_state().channels(ch).uuid(user).sync().result.channels)
step('history v2', lambda: len(pubnub.history().channel(ch).count(10).include_timetoken(True).sync().result.messages))
step('fetch v3', lambda: len(pubnub.fetch_messages().channels(ch).count(25).include_meta(True).sync().result.channels[ch]))
step('message counts', lambda: pubnub.message_counts(channels=ch, channels_timetoken=[state['tt'] - 1]).sync().result.channels)
step('message action add', add_action)
step('message actions get', lambda: len(pubnub.get_message_actions().channel(ch).sync().result.actions))
step('fetch with actions', lambda: len(pubnub.fetch_messages().channels(ch).include_message_actions(True).sync().result.channels[ch]))
step('message action remove', lambda: pubnub.remove_message_action().channel(ch).message_timetoken(state['tt']).action_timetoken(state['action_tt']).sync().status.status_code)
step('channel group add', lambda: pubnub.add_channel_to_channel_group().channels([ch, ch2]).channel_group(cg).sync().status.status_code)
step('channel group list', lambda: pubnub.list_channels_in_channel_group().channel_group(cg).sync().result.channels)
step('channel group remove', lambda: pubnub.remove_channel_from_channel_group().channels([ch2]).channel_group(cg).sync().status.status_code)
step('channel group delete', lambda: pubnub.remove_channel_group().channel_group(cg).sync().status.status_code)
step('uuid metadata set', lambda: pubnub.set_uuid_metadata().uuid(user).set_name('Ann').sync().result.data['name'])
step('uuid metadata get', lambda: pubnub.get_uuid_metadata().uuid(user).sync().result.data['name'])
step('uuid metadata list (count)', lambda: pubnub.get_all_uuid_metadata().include_total_count(True).sync().result.total_count)
step('channel metadata set', lambda: pubnub.set_channel_metadata().channel(ch).set_name('Room').sync().result.data['name'])
step('memberships set', lambda: len(pubnub.set_memberships().uuid(user).channel_memberships([PNChannelMembership.channel(ch)]).sync().result.data))
step('memberships get', lambda: len(pubnub.get_memberships().uuid(user).sync().result.data))
step('uuid metadata remove', lambda: pubnub.remove_uuid_metadata().uuid(user).sync().status.status_code)
step('send file (upload + publish-file)', send_file)
step('list files', lambda: len(pubnub.list_files().channel(ch).sync().result.data))
step('get file url', lambda: pubnub.get_file_url().channel(ch).file_id(state['file_id']).file_name('note.txt').sync().result.file_url)
step('download file', lambda: pubnub.download_file().channel(ch).file_id(state['file_id']).file_name('note.txt').sync().result.data.decode())
step('delete file', lambda: pubnub.delete_file().channel(ch).file_id(state['file_id']).file_name('note.txt').sync().result.status)
step('delete messages', lambda: pubnub.delete_messages().channel(ch2).sync().status.status_code)
if secret:
    step('grant v2', lambda: pubnub.grant().channels(ch).auth_keys('auth-a').read(True).write(True).ttl(60).sync().result.level)
    step('audit v2', lambda: pubnub.audit().channels(ch).auth_keys('auth-a').sync().result.level)
    step('grant token + parse_token', grant_token_and_parse)
    step('revoke token', lambda: pubnub.revoke_token(state['token']).sync().result.status)

passed = sum(1 for r in results if r['ok'])
print(json.dumps({'summary': f'{passed}/{len(results)} calls worked', 'failed': [r['step'] for r in results if not r['ok']]}), flush=True)
pubnub.stop() if hasattr(pubnub, 'stop') else None
os._exit(0)
