"""The scenarios, by name, in the order a full run takes them."""

from bench.scenarios.api import birthdays_api
from bench.scenarios.delivery import delivery_batched, delivery_per_message
from bench.scenarios.gatherings import gathering_costs
from bench.scenarios.lateness import reminder_lateness
from bench.scenarios.own_time import per_person_time
from bench.scenarios.reminders import csv_import, reminders_burst, reminders_idle_tick
from bench.scenarios.tick import idle_tick, simulated_day

SCENARIOS = {
    "idle_tick": idle_tick,
    "simulated_day": simulated_day,
    "delivery_per_message": delivery_per_message,
    "delivery_batched": delivery_batched,
    "birthdays_api": birthdays_api,
    "reminders_idle_tick": reminders_idle_tick,
    "reminders_burst": reminders_burst,
    "csv_import": csv_import,
    "reminder_lateness": reminder_lateness,
    "gathering_costs": gathering_costs,
    "per_person_time": per_person_time,
}
