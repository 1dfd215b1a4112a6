{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month') }}",
        tags=['monthly'],
    )
}}

{#-
    Spells (forløb) carried across monthly partitions, one row per person × spell type × month
    × spell: the part of the spell inside the month and the spell's first day (docs/domain.md §1: a
    gap of one day or more ends a spell; a change of age, municipality or other attribute does
    not). Spell types: every status code on its own, plus `public_benefit` = any day on one of
    the plan's 12 groups (is_public_benefit_plan), where the codes in var
    `public_benefit_spell_bridge_codes` (default ADAG_SYG) continue the spell without counting.

    Incremental: only the window's months are built. A spell running on the last day of the
    month before the window is picked up from this table (`carried`) and keeps its start date.
    In the first month loaded, a segment that started before the month gives the earliest known
    start (spells are left-censored at the first extract). Restating a month rebuilds that
    month; later months keep the start dates they were built with until they are re-run.
    Person-level: stays in the working database, never published.
-#}
with

segment_days as (

    select * from {{ ref('int_segment_month_days') }}
    where {{ month_window('report_month') }}

),

catalogue as (

    select * from {{ ref('benefit_catalogue') }}

),

status_pieces as (

    select
        report_month as month,
        person_id,
        benefit_code as spell_type,
        municipality_code,
        age_band,
        is_working_age,
        days_from_date as piece_from_date,
        days_to_date as piece_to_date,
        -- a segment that began before the month tells when it really started
        case
            when days_from_date = report_month then least(segment_start_date, days_from_date)
            else days_from_date
        end as start_estimate_date,

    from segment_days

),

public_benefit_pieces as (

    select status_pieces.* replace ('public_benefit' as spell_type),

    from status_pieces
    inner join catalogue on status_pieces.spell_type = catalogue.benefit_code
    where
        catalogue.is_public_benefit_plan
        or catalogue.benefit_code in ({{ sql_list(var('public_benefit_spell_bridge_codes')) }})

),

pieces as (

    select * from status_pieces
    union all
    select * from public_benefit_pieces

),

with_previous_end as (

    select
        *,
        max(piece_to_date) over (
            partition by person_id, spell_type
            order by piece_from_date, piece_to_date
            rows between unbounded preceding and 1 preceding
        ) as previous_to_date,

    from pieces

),

numbered as (

    select
        *,
        sum(
            case
                when previous_to_date is null or piece_from_date > previous_to_date + 1 then 1
                else 0
            end
        ) over (
            partition by person_id, spell_type
            order by piece_from_date, piece_to_date
            rows unbounded preceding
        ) as spell_number,

    from with_previous_end

),

window_spells as (

    select
        person_id,
        spell_type,
        spell_number,
        min(piece_from_date) as first_date,
        min(start_estimate_date) as start_estimate_date,

    from numbered
    group by person_id, spell_type, spell_number

),

{% if is_incremental() %}
-- spells running on the last day of the month before the window (joined, not re-sorted)
carried as (

    select
        person_id,
        spell_type,
        spell_start_date,
    from {{ this }}
    where month = {{ window_start(1) }} and is_running_at_month_end

),
{% endif %}

spell_starts as (

    select
        window_spells.person_id,
        window_spells.spell_type,
        window_spells.spell_number,
        {% if is_incremental() %}
        case
            when window_spells.first_date = {{ window_start() }} and carried.spell_start_date is not null
                then least(carried.spell_start_date, window_spells.start_estimate_date)
            else window_spells.start_estimate_date
        end as spell_start_date,
        {% else %}
            window_spells.start_estimate_date as spell_start_date,
        {% endif %}

    from window_spells
    {% if is_incremental() %}
    left join carried
        on
            window_spells.person_id = carried.person_id
            and window_spells.spell_type = carried.spell_type
    {% endif %}

),

month_parts as (

    select
        month,
        person_id,
        spell_type,
        spell_number,
        min(piece_from_date) as piece_from_date,
        max(piece_to_date) as piece_to_date,
        arg_max(municipality_code, piece_to_date) as municipality_code,
        arg_max(age_band, piece_to_date) as age_band,
        arg_max(is_working_age, piece_to_date) as is_working_age,

    from numbered
    group by month, person_id, spell_type, spell_number

),

final as (

    select
        month_parts.month,
        month_parts.person_id,
        month_parts.spell_type,
        spell_starts.spell_start_date,
        month_parts.piece_from_date,
        month_parts.piece_to_date,
        month_parts.municipality_code,
        month_parts.age_band,
        month_parts.is_working_age,
        month_parts.piece_to_date = last_day(month_parts.month) as is_running_at_month_end,
        date_diff('day', spell_starts.spell_start_date, month_parts.piece_to_date) + 1
            as spell_days_to_date,

    from month_parts
    inner join spell_starts
        on
            month_parts.person_id = spell_starts.person_id
            and month_parts.spell_type = spell_starts.spell_type
            and month_parts.spell_number = spell_starts.spell_number

)

select * from final
