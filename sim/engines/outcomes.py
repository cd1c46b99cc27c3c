"""What follows a rule's decision, written once for both engines.

:mod:`sim.core.rules` decides (does this entity violate, is it inspected, does it exit);
this module says what then changes - state, bookkeeping, the record fields that count it -
as pure functions on Python scalars (the Mesa engine, one agent at a time) or numpy arrays
(the vector engine, rows at a time) alike. Record fields are returned as flags in the
order of the ``*_FIELDS`` declarations; each engine adds the weights of the flagged
entities to its monthly record (the Mesa engine entity by entity, the vector engine as
array sums), so the fields an outcome counts are declared here and nowhere else.
"""

from __future__ import annotations

import numpy as np

from sim.core import rules

# ------------------------------------------------------------------------------------ regulators


def regulator_paces(capacity, capacity_2020, capability, effectiveness, p):
    """Monthly paces at which a regulator moves its double-random share and its credit application
    towards the targets: the share's pace rises with capacity relative to the declared 2020 capacity
    (at most double); both scale with the city's lasting capability, and credit-based sampling,
    which needs the city's data systems, with its digital effectiveness."""
    capacity_ratio = rules.minimum(2.0, capacity / capacity_2020)
    return (p.dual_random_pace / 12.0 * capacity_ratio * capability,
            p.credit_application_pace / 12.0 * capability * effectiveness)


def annual_rates(random_prob, routine_prob_per_visibility, lead_coverage, complaint_rate):
    """The annual inspection rates an entity infers from a regulator's monthly selection
    probabilities: random (for its risk class), routine per unit of visibility, and on complaints."""
    return 12.0 * random_prob, 12.0 * routine_prob_per_visibility, 12.0 * complaint_rate * lead_coverage


def steady_memory(rate_random, rate_routine, memory_decay):
    """Specific deterrence at its steady state: the expected decayed memory of past inspections
    at the given annual rates (the initial population's memory)."""
    return rules.minimum(1.0, (rate_random + rate_routine) / 12.0 / (1.0 - memory_decay))


# ------------------------------------------------------------------------------------ inspection
INSPECTION_FIELDS = ("inspections", "inspections_random", "random_checked", "random_found_abnormal",
                     "inspections_on_compliant", "violations_detected", "random_found_violating")


def inspection_flags(kind, active, violating, detected):
    """Which of :data:`INSPECTION_FIELDS` an inspection of ``kind`` counts (for inspected entities):
    every inspection; random ones also as random checks; a random check of an entity not
    operating finds it abnormal; an operating entity found compliant is a burden on the
    compliant; a detected violation, and among them the random check's."""
    random = kind == rules.RANDOM_INSPECTION
    return (kind != rules.NOT_INSPECTED, random, random, _and(random, _not(active)),
            _and(active, _not(violating)), _and(active, detected), _and(_and(active, detected), random))


def after_inspection(active, credit_status, months_in_status, memory):
    """State of an inspected entity: one not operating at its address goes onto the abnormal list
    (if on no list); an operating one remembers the inspection (memory 1)."""
    listed = _and(_not(active), credit_status == rules.NORMAL)
    return (rules.where(listed, rules.ABNORMAL, credit_status), rules.where(listed, 0, months_in_status),
            rules.where(active, 1.0, memory))


# ------------------------------------------------------------------------------------ sanctions and credit
def after_sanction(log_size, fine_level, p):
    """Size of a detected violator after its fine (fines cost a little growth); it stops violating
    and its time since the last penalty starts again (both engines set those directly)."""
    return log_size - p.fine_size_hit * fine_level


def credit_change(credit_status, new_status, months_in_status):
    """Credit status and months in it after a change of list (the months restart when it changes)."""
    if not _array(credit_status) and not _array(new_status):
        return new_status, (0 if new_status != credit_status else months_in_status)
    return new_status, rules.where(new_status != credit_status, 0, months_in_status)


# ------------------------------------------------------------------------------------ exit
_FIRST_ROUTE, _LAST_ROUTE = min(rules.DEREG_ROUTES), max(rules.DEREG_ROUTES)
EXIT_FIELDS = ("deregistrations", *("dereg_" + route for route in rules.DEREG_ROUTES.values()),
               "deregistrations_individual")


def exit_flags(outcome, kind):
    """Which of :data:`EXIT_FIELDS` an exit outcome counts: a deregistration, by its route, and
    among them individual businesses."""
    deregistered = _and(outcome >= _FIRST_ROUTE, outcome <= _LAST_ROUTE)
    return (deregistered, *(outcome == code for code in rules.DEREG_ROUTES),
            _and(deregistered, kind == rules.INDIVIDUAL))


def after_exit(outcome, status, months_dormant, violating):
    """Status, months dormant and violation after an exit outcome: deregistered entities leave the
    register, ceasing ones go dormant, resuming ones are active again; neither the deregistered nor
    the dormant violate."""
    if not _array(outcome):  # one entity: most months nothing happens
        if outcome == rules.STAY:
            return status, months_dormant, violating
        if _FIRST_ROUTE <= outcome <= _LAST_ROUTE:
            return rules.DEREGISTERED, months_dormant, False
        if outcome == rules.GO_DORMANT:
            return rules.DORMANT, 0, False
        return rules.ACTIVE, 0, violating  # REACTIVATE
    dormant = outcome == rules.GO_DORMANT
    active = outcome == rules.REACTIVATE
    gone = (outcome >= _FIRST_ROUTE) & (outcome <= _LAST_ROUTE)
    new_status = rules.where(gone, rules.DEREGISTERED,
                             rules.where(dormant, rules.DORMANT, rules.where(active, rules.ACTIVE, status)))
    return (new_status, rules.where(_or(dormant, active), 0, months_dormant),
            rules.where(_or(gone, dormant), False, violating))


# ------------------------------------------------------------------------------------ scalar-or-array logic
def _array(x) -> bool:
    return type(x) is np.ndarray


def _not(x):
    return ~x if _array(x) else not x


def _and(a, b):
    return a & b if _array(a) or _array(b) else bool(a and b)


def _or(a, b):
    return a | b if _array(a) or _array(b) else bool(a or b)
