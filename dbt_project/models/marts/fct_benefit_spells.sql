{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month', 1) }}",
        tags=['monthly'],
    )
}}

{#-
    Spells (forløb) per month × municipality × spell type × age band × duration band, from
    int_benefit_spell_months (docs/domain.md §1: a gap of one day or more ends a spell, a change of
    attribute does not). Spell types: each status code, and `public_benefit` (any of the plan's
    12 groups, ADAG_SYG bridging). A spell counts in a month when it has a day in it; its
    duration is the days from its first day to its last day in the month, and the band is
    taken on that duration (`over 52 weeks` = more than 364 days, follow-up a).

    A spell whose last day in the month is the month's last day has ended only if the next
    month has been loaded without it; so each run rebuilds the month before the window too
    (pre-hook deletes [start_month - 1 month, end_month)). A spell still running at the end
    of the latest loaded month is not ended. Aggregated: the person-level spells stay in the
    working database (int_benefit_spell_months).
-#}
with

spell_months as (

    select * from {{ ref('int_benefit_spell_months') }}
    where {{ month_window('month', 1) }}

),

next_month as (

    select
        month,
        person_id,
        spell_type,
        spell_start_date,
    from {{ ref('int_benefit_spell_months') }}
    where month >= {{ window_start() }} and month <= {{ window_end() }}

),

latest_month as (

    -- only whether the month after each rebuilt month is loaded matters
    select max(month) as latest_month from {{ ref('int_benefit_spell_months') }}
    where month >= {{ window_start(1) }}

),

classified as (

    select
        spell_months.*,
        case
            when not spell_months.is_running_at_month_end then true
            when next_month.person_id is not null then false
            when spell_months.month < latest_month.latest_month then true
            else false
        end as is_ended_in_month,
        spell_months.spell_start_date >= spell_months.month as is_started_in_month,
        case
            when spell_months.spell_days_to_date <= 91 then '0-13 weeks'
            when spell_months.spell_days_to_date <= 182 then '14-26 weeks'
            when spell_months.spell_days_to_date <= 364 then '27-52 weeks'
            else 'over 52 weeks'
        end as duration_band,

    from spell_months
    cross join latest_month
    left join next_month
        on
            spell_months.person_id = next_month.person_id
            and spell_months.spell_type = next_month.spell_type
            and spell_months.spell_start_date = next_month.spell_start_date
            and next_month.month = spell_months.month + interval 1 month

),

final as (

    select
        cast(month as date) as month,
        cast(municipality_code as integer) as municipality_code,
        cast(spell_type as varchar) as spell_type,
        cast(age_band as varchar) as age_band,
        cast(duration_band as varchar) as duration_band,
        cast(count(*) as bigint) as spells,
        cast(count(distinct person_id) as bigint) as persons,
        cast(count(*) filter (where is_started_in_month) as bigint) as spells_started,
        cast(count(*) filter (where is_ended_in_month) as bigint) as spells_ended,
        cast(sum(spell_days_to_date) as bigint) as spell_days,
        cast(coalesce(sum(spell_days_to_date) filter (where is_ended_in_month), 0) as bigint)
            as ended_spell_days,

    from classified
    group by all

)

select * from final
