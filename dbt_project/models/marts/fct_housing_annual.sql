{#-
    Temporary housing per municipality and calendar year (docs/domain.md §5): the annual flow to
    permanent housing (sum of the months' moves), average and peak number housed, and the
    year-end position (the last month delivered in the year) of rooms, vacancies and rent
    arrears. Rebuilt in full each run from fct_housing_municipality (a few rows per month).
-#}
with

monthly as (

    select * from {{ ref('fct_housing_municipality') }}

),

annual as (

    select
        municipality_code,
        year(month) as year,
        count(*) as months_reported,
        max(month) as last_month_reported,
        sum(moved_to_permanent) as moved_to_permanent,
        avg(housed) as average_housed,
        max(housed) as peak_housed,
        sum(housed) / nullif(sum(rooms), 0) as average_occupancy,
        max(addresses_over_capacity) as peak_addresses_over_capacity,
        arg_max(addresses, month) as addresses_at_year_end,
        arg_max(rooms, month) as rooms_at_year_end,
        arg_max(vacant_rooms, month) as vacant_rooms_at_year_end,
        arg_max(housed, month) as housed_at_year_end,
        arg_max(rent_arrears_persons, month) as rent_arrears_persons_at_year_end,
        arg_max(rent_arrears_dkk, month) as rent_arrears_dkk_at_year_end,

    from monthly
    group by year(month), municipality_code

),

final as (

    select
        cast(year as integer) as year,
        cast(municipality_code as integer) as municipality_code,
        cast(months_reported as bigint) as months_reported,
        cast(months_reported = 12 as boolean) as is_complete_year,
        cast(last_month_reported as date) as last_month_reported,
        cast(moved_to_permanent as bigint) as moved_to_permanent,
        cast(average_housed as double) as average_housed,
        cast(peak_housed as bigint) as peak_housed,
        cast(average_occupancy as double) as average_occupancy,
        cast(peak_addresses_over_capacity as bigint) as peak_addresses_over_capacity,
        cast(addresses_at_year_end as bigint) as addresses_at_year_end,
        cast(rooms_at_year_end as bigint) as rooms_at_year_end,
        cast(vacant_rooms_at_year_end as bigint) as vacant_rooms_at_year_end,
        cast(housed_at_year_end as bigint) as housed_at_year_end,
        cast(rent_arrears_persons_at_year_end as bigint) as rent_arrears_persons_at_year_end,
        cast(rent_arrears_dkk_at_year_end as decimal(18, 2)) as rent_arrears_dkk_at_year_end,

    from annual

)

select * from final
