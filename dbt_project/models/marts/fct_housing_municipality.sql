{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month') }}",
        tags=['monthly'],
    )
}}

{#-
    Temporary housing totals per municipality and month (docs/domain.md §5): addresses, rooms,
    vacant rooms, persons housed, occupancy (housed / rooms), addresses over capacity, moves
    to permanent housing and rent arrears; addresses opened (delivered this month, not the
    month before) and closed (delivered the month before, not this month).
-#}
with

occupancy as (

    select * from {{ ref('fct_housing_occupancy') }}
    where {{ month_window('month', 1) }}

),

current_month as (

    select * from occupancy
    where {{ month_window('month') }}

),

totals as (

    select
        month,
        municipality_code,
        count(*) as addresses,
        sum(rooms) as rooms,
        sum(vacant_rooms) as vacant_rooms,
        sum(occupied_rooms) as occupied_rooms,
        sum(housed) as housed,
        sum(households) as households,
        count(*) filter (where is_over_capacity) as addresses_over_capacity,
        sum(greatest(housed - rooms, 0)) as persons_over_capacity,
        sum(moved_to_permanent) as moved_to_permanent,
        sum(rent_arrears_persons) as rent_arrears_persons,
        sum(rent_arrears_dkk) as rent_arrears_dkk,
        count(*) filter (where not was_present_previous_month) as addresses_opened,

    from current_month
    group by month, municipality_code

),

closed as (

    select
        cast(previous_month.month + interval 1 month as date) as month,
        previous_month.municipality_code,
        count(*) as addresses_closed,

    from occupancy as previous_month
    anti join current_month
        on
            previous_month.municipality_code = current_month.municipality_code
            and previous_month.address = current_month.address
            and current_month.month = previous_month.month + interval 1 month
    group by all

),

final as (

    select
        cast(totals.month as date) as month,
        cast(totals.municipality_code as integer) as municipality_code,
        cast(totals.addresses as bigint) as addresses,
        cast(totals.rooms as bigint) as rooms,
        cast(totals.vacant_rooms as bigint) as vacant_rooms,
        cast(totals.occupied_rooms as bigint) as occupied_rooms,
        cast(totals.housed as bigint) as housed,
        cast(totals.households as bigint) as households,
        cast(totals.housed / nullif(totals.rooms, 0) as double) as occupancy,
        cast(totals.addresses_over_capacity as bigint) as addresses_over_capacity,
        cast(totals.persons_over_capacity as bigint) as persons_over_capacity,
        cast(totals.moved_to_permanent as bigint) as moved_to_permanent,
        cast(totals.rent_arrears_persons as bigint) as rent_arrears_persons,
        cast(totals.rent_arrears_dkk as decimal(18, 2)) as rent_arrears_dkk,
        cast(totals.addresses_opened as bigint) as addresses_opened,
        cast(coalesce(closed.addresses_closed, 0) as bigint) as addresses_closed,

    from totals
    left join closed
        on
            totals.month = closed.month
            and totals.municipality_code = closed.municipality_code

)

select * from final
