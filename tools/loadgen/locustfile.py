"""
The drone delivery load test for Locust, so it runs at Azure scale on Azure Load Testing (many engines), with the
same five journeys and the same weights as the bundled generator (tools/loadgen, `npm run loadtest`):

    create-and-track  create (Idempotency-Key) → poll status until Scheduled → read the delivery → read the package
    cancel            create → cancel → poll until Cancelled
    reschedule        create → poll until Scheduled → PATCH a new window → poll the delivery until it shows it
    confirm           create (confirmation Picture) → poll until Scheduled → confirm → poll until Delivered
    browse            the owner's monthly package summary → status of the owner's last deliveries

Weights come from mix.default.json beside this file (or LOADGEN_MIX, a path). Every request carries the synthetic
marks `X-Synthetic-Request: true` and `baggage: synthetic_request=true`. Each Locust user is one synthetic owner
`<LOADGEN_OWNER_PREFIX><n>` (n cycles through LOADGEN_OWNERS).

Statistics: every request under "<scenario>: <step>"; each whole journey as request type JOURNEY (name = scenario,
time = the journey's duration, a failure when any step failed); the time from a 202 to the awaited state as request
type E2E (name = Scheduled, Cancelled, Delivered, Rescheduled).

Tokens (the first that is set):
    LOADGEN_ENTRA_CLIENT_ID + LOADGEN_ENTRA_CLIENT_SECRET + LOADGEN_ENTRA_TENANT_ID (+ LOADGEN_ENTRA_SCOPE, default
        api://dronedelivery/.default): client credentials of a service principal holding the gateway's LoadTest app
        role, fetched from Entra ID and renewed before expiry; requests name `ownerId` (Azure Load Testing: the
        secret comes from Key Vault as a secret environment variable).
    LOADGEN_TOKEN: one bearer token for every user (a LoadTest-role token; requests name `ownerId`).
    LOADGEN_TOKEN_COMMAND: a command printing a token as its last line, run once per owner ({owner} is replaced by
        the owner; without it the owner is appended), e.g. locally
        AUTH_LOCAL_KEY_DIR=.local/auth LOADGEN_TOKEN_COMMAND='node services/gateway/dist/tools/token.js {owner}'
    none of them: no Authorization header.
LOADGEN_NAME_OWNER=true|false overrides whether the body names `ownerId` (default: true with a shared token).

Other settings: LOADGEN_FLEET (drones in the fleet, default 50 = the local stack's DRONE_FLEET_SIZE) sizes the
pickup windows so the fleet can serve them: at most fleet/4 windows per 75-minute block, each inside its block;
LOADGEN_WINDOW_START (ISO time of the first block; default tomorrow at a random block within the next ~year, so
separate engines rarely share blocks); LOADGEN_THINK (seconds between a journey's steps, "min-max", default 0-1);
LOADGEN_WAIT (seconds between journeys, "min-max", default 0.5-2); LOADGEN_POLL_MS (250); LOADGEN_POLL_TIMEOUT_S (30).

    locust -f tools/loadgen/locustfile.py --host http://127.0.0.1:8080 --headless -u 20 -r 5 -t 1m
"""

import itertools
import json
import os
import random
import shlex
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

import gevent
import gevent.pool
from locust import HttpUser, between, events

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = ("create-and-track", "cancel", "reschedule", "confirm", "browse")
SYNTHETIC_HEADERS = {"X-Synthetic-Request": "true", "baggage": "synthetic_request=true"}
FINAL_STATES = ("Delivered", "Cancelled", "Failed")
STREETS = ("Main St", "Side Rd", "Harbour Way", "Mill Lane", "Station Rd", "Park Ave", "Church St", "Quarry Rd", "Elm Grove", "Bridge St")
TAGS = ("books", "electronics", "groceries", "pharmacy", "clothing", "toys", "documents", "spare-parts", "flowers", "fragile")
BLOCK = timedelta(minutes=75)


def _env(name, default):
    value = os.environ.get(name, "")
    return value if value != "" else default


def _range(name, default):
    low, _, high = _env(name, default).partition("-")
    return float(low), float(high or low)


def load_mix():
    path = _env("LOADGEN_MIX", os.path.join(HERE, "mix.default.json"))
    with open(path, encoding="utf-8") as file:
        mix = json.load(file)
    unknown = set(mix) - set(SCENARIOS)
    if unknown:
        raise ValueError(f"{path}: unknown scenarios {sorted(unknown)} (known: {', '.join(SCENARIOS)})")
    # Locust weights are whole numbers (the default mix is in percent).
    return {name: int(round(float(weight))) for name, weight in mix.items() if round(float(weight)) > 0}


MIX = load_mix()
OWNER_PREFIX = _env("LOADGEN_OWNER_PREFIX", "loadtest-")
OWNERS = int(_env("LOADGEN_OWNERS", "200"))
FLEET = int(_env("LOADGEN_FLEET", "50"))
THINK = _range("LOADGEN_THINK", "0-1")
POLL_S = int(_env("LOADGEN_POLL_MS", "250")) / 1000
POLL_TIMEOUT_S = float(_env("LOADGEN_POLL_TIMEOUT_S", "30"))
RUN_ID = uuid.uuid4().hex[:8]


# ---- tokens ----


class EntraToken:
    """Client credentials flow against Entra ID; one token per process, renewed five minutes before it expires."""

    def __init__(self, tenant, client_id, secret, scope):
        self.url = f"https://login.microsoftonline.com/{urllib.parse.quote(tenant)}/oauth2/v2.0/token"
        self.form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": scope}).encode()
        self.token, self.expires, self.lock = None, 0.0, threading.Lock()

    def get(self, _owner):
        with self.lock:
            if self.token is None or time.time() > self.expires - 300:
                with urllib.request.urlopen(urllib.request.Request(self.url, data=self.form, method="POST"), timeout=10) as response:
                    answer = json.load(response)
                self.token, self.expires = answer["access_token"], time.time() + float(answer.get("expires_in", 3600))
            return self.token


class CommandTokens:
    """A token per owner from a command (its last output line), cached."""

    def __init__(self, command):
        self.command, self.cache = command, {}

    def get(self, owner):
        if owner not in self.cache:
            args = [arg.replace("{owner}", owner) for arg in shlex.split(self.command)]
            if "{owner}" not in self.command:
                args.append(owner)
            output = subprocess.run(args, check=True, capture_output=True, text=True, timeout=30).stdout
            self.cache[owner] = [line for line in output.splitlines() if line.strip()][-1].strip()
        return self.cache[owner]


def token_source():
    if os.environ.get("LOADGEN_ENTRA_CLIENT_SECRET"):
        source = EntraToken(
            os.environ["LOADGEN_ENTRA_TENANT_ID"],
            os.environ["LOADGEN_ENTRA_CLIENT_ID"],
            os.environ["LOADGEN_ENTRA_CLIENT_SECRET"],
            _env("LOADGEN_ENTRA_SCOPE", "api://dronedelivery/.default"),
        )
        return source.get, True
    if os.environ.get("LOADGEN_TOKEN"):
        return (lambda _owner: os.environ["LOADGEN_TOKEN"]), True
    if os.environ.get("LOADGEN_TOKEN_COMMAND"):
        return CommandTokens(os.environ["LOADGEN_TOKEN_COMMAND"]).get, False
    return (lambda _owner: None), False


TOKEN_FOR, SHARED_TOKEN = token_source()


@events.test_start.add_listener
def prefetch_tokens(environment, **_kwargs):
    """Gets the first users' tokens before they spawn (a token command can take a second each); the run's clock
    starts after this. Four at a time."""
    users = getattr(environment.parsed_options, "num_users", None) or 0
    owners = [f"{OWNER_PREFIX}{n}" for n in range(min(OWNERS, int(users)))] if not SHARED_TOKEN else [f"{OWNER_PREFIX}0"]
    pool = gevent.pool.Pool(4)
    for owner in owners:
        pool.spawn(TOKEN_FOR, owner)
    pool.join(raise_error=True)
NAME_OWNER = _env("LOADGEN_NAME_OWNER", "true" if SHARED_TOKEN else "false").lower() == "true"


# ---- realistic data ----


class WindowPlanner:
    """Pickup windows in consecutive 75-minute blocks, at most fleet/4 per block, none crossing its block."""

    def __init__(self):
        explicit = os.environ.get("LOADGEN_WINDOW_START")
        if explicit:
            start = datetime.fromisoformat(explicit.replace("Z", "+00:00"))
        else:
            now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
            start = now + timedelta(days=1, hours=1) + BLOCK * random.randrange(0, 7000)
        self.start, self.per_block, self.counter, self.lock = start, max(1, FLEET // 4), itertools.count(), threading.Lock()

    def window(self):
        with self.lock:
            block = next(self.counter) // self.per_block
        pickup = self.start + block * BLOCK + timedelta(minutes=random.randrange(15))
        deadline = pickup + timedelta(minutes=30 + random.randrange(31))
        return {"pickupTime": iso(pickup), "deadline": iso(deadline)}


def iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_time(text):
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def package_info(package_id):
    size = random.choices(("Small", "Medium", "Large"), weights=(60, 30, 10))[0]
    median = {"Small": 1.2, "Medium": 4.0, "Large": 9.0}[size]
    weight = min(25.0, max(0.05, random.lognormvariate(0, 0.5) * median))
    return {"packageId": package_id, "size": size, "weight": round(weight, 3), "tag": random.choice(TAGS)}


PLANNER = WindowPlanner()
OWNER_NUMBERS = itertools.count()
PACKAGES = itertools.count()
RECENT = {}  # owner → the ids of its latest deliveries (browse reads them)


class JourneyFailed(Exception):
    pass


# ---- the journeys ----


class Journey:
    def __init__(self, user, scenario):
        self.user, self.scenario = user, scenario

    def request(self, step, method, path, expected, body=None, headers=None):
        with self.user.client.request(
            method,
            path,
            name=f"{self.scenario}: {step}",
            json=body,
            headers={**self.user.headers, **(headers or {})},
            catch_response=True,
        ) as response:
            if response.status_code not in expected:
                problem = ""
                try:
                    problem = response.json().get("type", "")
                except Exception:  # noqa: BLE001 - not JSON
                    pass
                response.failure(f"{response.status_code} {problem}".strip())
                raise JourneyFailed(f"{method} {path}: {response.status_code}")
            try:
                payload = response.json() if response.content else None
            except ValueError:
                payload = None
            response.success()
            return payload

    def think(self):
        low, high = THINK
        if high > 0:
            gevent.sleep(random.uniform(low, high))

    def create(self, confirmation=None):
        body = {
            "pickupLocation": f"{random.randint(1, 240)} {random.choice(STREETS)}",
            "dropOffLocation": f"{random.randint(1, 240)} {random.choice(STREETS)}",
            **PLANNER.window(),
            "expedited": random.random() < 0.15,
            "confirmationRequired": confirmation or random.choice(("None", "Picture")),
            "packageInfo": package_info(f"pkg-locust-{RUN_ID}-{next(PACKAGES):x}"),
        }
        if NAME_OWNER:
            body["ownerId"] = self.user.owner
        answer = self.request("create", "POST", "/api/deliveryrequests", [202], body, {"Idempotency-Key": f"locust-{uuid.uuid4()}"})
        delivery_id = str((answer or {}).get("deliveryId", ""))
        recent = RECENT.setdefault(self.user.owner, [])
        recent.append(delivery_id)
        del recent[:-20]
        return delivery_id, time.monotonic()

    def until(self, delivery_id, state, since, path=None, label=None, accept=None):
        """Polls until the delivery shows `state`; records the time since `since` as E2E `label`."""
        label = label or state
        path = path or f"/api/deliveries/{urllib.parse.quote(delivery_id)}/status"
        step = f"{'read' if path.endswith(delivery_id) else 'status'} until {label}"
        while True:
            answer = self.request(step, "GET", path, [200]) or {}
            status = answer.get("status")
            if status == state and (accept is None or accept(answer)):
                e2e(label, since)
                return answer
            if status in FINAL_STATES and status != state:
                e2e(label, since, f"expected {state}, the delivery is {status} {answer.get('reason', '')}".strip())
                raise JourneyFailed(f"delivery {delivery_id} is {status}")
            if time.monotonic() - since > POLL_TIMEOUT_S:
                e2e(label, since, f"{label} not reached within {POLL_TIMEOUT_S:g} s")
                raise JourneyFailed(f"delivery {delivery_id} did not reach {label}")
            gevent.sleep(POLL_S)


def e2e(label, since, failure=None):
    events.request.fire(
        request_type="E2E",
        name=label,
        response_time=(time.monotonic() - since) * 1000,
        response_length=0,
        exception=JourneyFailed(failure) if failure else None,
        context={},
    )


def create_and_track(j):
    delivery_id, accepted = j.create()
    j.until(delivery_id, "Scheduled", accepted)
    j.think()
    delivery = j.request("read delivery", "GET", f"/api/deliveries/{urllib.parse.quote(delivery_id)}", [200]) or {}
    j.think()
    j.request("read package", "GET", f"/api/packages/{urllib.parse.quote(str(delivery.get('packageId', '')))}", [200])


def cancel(j):
    delivery_id, _ = j.create()
    j.think()
    j.request("cancel", "DELETE", f"/api/deliveryrequests/{urllib.parse.quote(delivery_id)}", [202])
    j.until(delivery_id, "Cancelled", time.monotonic())


def reschedule(j):
    delivery_id, accepted = j.create()
    j.until(delivery_id, "Scheduled", accepted)
    j.think()
    window = PLANNER.window()
    j.request("reschedule", "PATCH", f"/api/deliveryrequests/{urllib.parse.quote(delivery_id)}", [202], window)
    wanted = parse_time(window["pickupTime"])
    j.until(
        delivery_id,
        "Scheduled",
        time.monotonic(),
        path=f"/api/deliveries/{urllib.parse.quote(delivery_id)}",
        label="Rescheduled",
        accept=lambda body: body.get("pickupTime") is not None and parse_time(body["pickupTime"]) == wanted,
    )


def confirm(j):
    delivery_id, accepted = j.create("Picture")
    j.until(delivery_id, "Scheduled", accepted)
    j.think()
    j.request(
        "confirm",
        "POST",
        f"/api/deliveries/{urllib.parse.quote(delivery_id)}/confirmations",
        [202],
        {"dateTime": iso(datetime.now(timezone.utc)), "confirmationType": "Picture", "confirmationBlob": f"blob-{delivery_id}"},
    )
    j.until(delivery_id, "Delivered", time.monotonic())


def browse(j):
    now = datetime.now(timezone.utc)
    j.request("owner summary", "GET", f"/api/packages/summary/{urllib.parse.quote(j.user.owner)}?year={now.year}&month={now.month}", [200])
    for delivery_id in list(RECENT.get(j.user.owner, []))[-3:]:
        j.think()
        j.request("status", "GET", f"/api/deliveries/{urllib.parse.quote(delivery_id)}/status", [200])


SCRIPTS = {"create-and-track": create_and_track, "cancel": cancel, "reschedule": reschedule, "confirm": confirm, "browse": browse}


def journey_task(scenario):
    def task(user):
        started = time.monotonic()
        failure = None
        try:
            SCRIPTS[scenario](Journey(user, scenario))
        except JourneyFailed as error:
            failure = error
        events.request.fire(
            request_type="JOURNEY",
            name=scenario,
            response_time=(time.monotonic() - started) * 1000,
            response_length=0,
            exception=failure,
            context={},
        )

    task.__name__ = scenario.replace("-", "_")
    return task


class DroneDeliveryUser(HttpUser):
    """One synthetic owner running weighted journeys (the weights of mix.default.json)."""

    wait_time = between(*_range("LOADGEN_WAIT", "0.5-2"))
    tasks = {journey_task(name): weight for name, weight in MIX.items()}

    def on_start(self):
        self.owner = f"{OWNER_PREFIX}{next(OWNER_NUMBERS) % OWNERS}"
        token = TOKEN_FOR(self.owner)
        self.headers = {**SYNTHETIC_HEADERS, **({"Authorization": f"Bearer {token}"} if token else {})}
