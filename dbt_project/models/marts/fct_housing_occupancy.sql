{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month') }}",
        tags=['monthly'],
    )
}}

{#-
    Temporary housing for refugees per address and month (docs/domain.md §5, issue 7). Address
    names are normalised through the seed `housing_address_aliases` (int_housing_addresses);
    rows that resolve to the same address in a month are added up. An address that is not
    delivered in a month has no row that month; `was_present_previous_month` tells a new or
    reopened address from a continuing one.
-#}
with

addresses as (

    select * from {{ ref('int_housing_addresses') }}
    where {{ month_window('report_month', 1) }}

),

per_address as (

    select
        report_month as month,
        municipality_code,
        address,
        sum(rooms) as rooms,
        sum(vacant_rooms) as vacant_rooms,
        sum(housed) as housed,
        sum(households) as households,
        sum(moved_to_permanent) as moved_to_permanent,
        sum(rent_arrears_persons) as rent_arrears_persons,
        sum(rent_arrears_dkk) as rent_arrears_dkk,
        count(*) as delivered_rows,

    from addresses
    group by report_month, municipality_code, address

),

with_previous as (

    select
        current_month.*,
        previous_month.address is not null as was_present_previous_month,

    from per_address as current_month
    left join per_address as previous_month
        on
            current_month.municipality_code = previous_month.municipality_code
            and current_month.address = previous_month.address
            and previous_month.month = current_month.month - interval 1 month
    where {{ month_window('current_month.month') }}

),

final as (

    select
        cast(month as date) as month,
        cast(municipality_code as integer) as municipality_code,
        cast(address as varchar) as address,
        cast(rooms as bigint) as rooms,
        cast(vacant_rooms as bigint) as vacant_rooms,
        cast(rooms - vacant_rooms as bigint) as occupied_rooms,
        cast(housed as bigint) as housed,
        cast(households as bigint) as households,
        cast(housed / nullif(rooms, 0) as double) as occupancy,
        cast(housed > rooms as boolean) as is_over_capacity,
        cast(moved_to_permanent as bigint) as moved_to_permanent,
        cast(rent_arrears_persons as bigint) as rent_arrears_persons,
        cast(rent_arrears_dkk as decimal(18, 2)) as rent_arrears_dkk,
        cast(was_present_previous_month as boolean) as was_present_previous_month,
        cast(delivered_rows as bigint) as delivered_rows,

    from with_previous

)

select * from final
