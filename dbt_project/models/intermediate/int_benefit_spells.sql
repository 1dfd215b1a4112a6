{#-
    One row per spell (forløb): person, spell type, first day, last day seen, duration in days
    and whether it is still running at the end of the latest month loaded. A view over
    int_benefit_spell_months for analysis inside the working database (person-level: never
    published); it costs nothing until queried.
-#}
with

spell_months as (

    select * from {{ ref('int_benefit_spell_months') }}

),

latest_month as (

    select max(month) as latest_month from spell_months

),

spells as (

    select
        person_id,
        spell_type,
        spell_start_date,
        max(piece_to_date) as spell_last_date,
        arg_max(municipality_code, piece_to_date) as municipality_code,
        arg_max(is_running_at_month_end, piece_to_date) as is_running_at_last_month_end,
        max(month) as last_month,

    from spell_months
    group by person_id, spell_type, spell_start_date

),

final as (

    select
        spells.person_id,
        spells.spell_type,
        spells.spell_start_date,
        spells.spell_last_date,
        date_diff('day', spells.spell_start_date, spells.spell_last_date) + 1 as duration_days,
        spells.municipality_code,
        spells.is_running_at_last_month_end
            and spells.last_month = latest_month.latest_month as is_ongoing,
        case
            when spells.is_running_at_last_month_end and spells.last_month = latest_month.latest_month
                then null
            else spells.spell_last_date
        end as spell_end_date,

    from spells
    cross join latest_month

)

select * from final
