{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month') }}",
        tags=['monthly'],
    )
}}

{#-
    Each municipality beside its comparison areas, per measure and month (issue 6, docs/domain.md
    §6): one row for the municipality itself (area_type `municipality`), one per cluster it
    belongs to (`cluster`, one per scheme of dim_cluster_membership), its RAR (`rar`), its
    2007-14 employment region (`br`) and the whole country (`country`).

    Aggregation over an area's municipalities with data in the month: levels are summed;
    shares are sum(numerator) / sum(denominator) (persons-weighted, not an average of
    shares). share_of_population = level / residents 16-66 (stg_population), null when the
    population of any municipality of the area is missing. The rank (1 = best, by the
    measure's direction in dim_kpi_measure) is among the municipalities with data that month
    (the 98 on national data): shares are ranked on the share, levels on share_of_population.
    An area of several municipalities with data for only one of them is left out (it would
    be that municipality again); comparisons with areas from published aggregates are in
    fct_benefit_benchmark and fct_joblog_benchmark (source, vintage). Every row here is
    built from person-level extracts (source = 'person').
    Incremental over the partition window.
-#}
with

measures as (

    select * from {{ ref('fct_kpi_measures') }}
    where {{ month_window('month') }}

),

population as (

    select * from {{ ref('int_population_months') }}
    where {{ month_window('month') }}

),

catalogue as (

    select * from {{ ref('dim_kpi_measure') }}

),

municipalities as (

    select * from {{ ref('dim_municipality') }}

),

clusters as (

    select * from {{ ref('dim_cluster_membership') }}

),

municipality_values as (

    select
        measures.*,
        population.population_16_66,

    from measures
    left join population
        on
            measures.month = population.month
            and measures.municipality_code = population.municipality_code

),

-- every comparison area of each municipality, with the area's members
municipality_areas as (

    select
        municipality_code,
        'municipality' as area_type,
        'municipality' as area_scheme,
        municipality_name as area_name,
    from municipalities
    union all
    select
        municipality_code,
        'cluster' as area_type,
        scheme as area_scheme,
        cluster as area_name,
    from clusters
    union all
    select
        municipality_code,
        'rar' as area_type,
        'rar' as area_scheme,
        rar_area as area_name,
    from municipalities
    union all
    select
        municipality_code,
        'br' as area_type,
        'br' as area_scheme,
        br_area as area_name,
    from municipalities
    union all
    select
        municipality_code,
        'country' as area_type,
        'country' as area_scheme,
        'Hele landet' as area_name,
    from municipalities

),

area_members as (

    select distinct
        area_type,
        area_scheme,
        area_name,
        municipality_code as member_code,
    from municipality_areas

),

area_sizes as (

    select
        area_type,
        area_scheme,
        area_name,
        count(*) as members,
    from area_members
    group by area_type, area_scheme, area_name

),

area_totals as (

    select
        municipality_values.month,
        municipality_values.measure,
        area_members.area_type,
        area_members.area_scheme,
        area_members.area_name,
        count(*) as municipalities_with_data,
        sum(municipality_values.numerator) as numerator,
        sum(municipality_values.denominator) as denominator,
        case
            when count(municipality_values.population_16_66) = count(*)
                then sum(municipality_values.population_16_66)
        end as population_16_66,

    from municipality_values
    inner join area_members on municipality_values.municipality_code = area_members.member_code
    group by all

),

beside as (

    select
        area_totals.month,
        area_totals.measure,
        catalogue.kind,
        catalogue.higher_is_better,
        municipality_areas.municipality_code,
        area_totals.area_type,
        area_totals.area_scheme,
        area_totals.area_name,
        area_totals.municipalities_with_data,
        area_totals.numerator,
        area_totals.denominator,
        area_totals.population_16_66,
        case
            when
                catalogue.kind = 'share'
                then area_totals.numerator / nullif(area_totals.denominator, 0)
            else area_totals.numerator
        end as value,
        case
            when catalogue.kind = 'level'
                then area_totals.numerator / nullif(area_totals.population_16_66, 0)
        end as share_of_population,

    from area_totals
    inner join municipality_areas
        on
            area_totals.area_type = municipality_areas.area_type
            and area_totals.area_scheme = municipality_areas.area_scheme
            and area_totals.area_name = municipality_areas.area_name
    -- only municipalities with data of their own get a comparison
    inner join measures
        on
            area_totals.month = measures.month
            and area_totals.measure = measures.measure
            and municipality_areas.municipality_code = measures.municipality_code
    left join catalogue on area_totals.measure = catalogue.measure
    inner join area_sizes
        on
            area_totals.area_type = area_sizes.area_type
            and area_totals.area_scheme = area_sizes.area_scheme
            and area_totals.area_name = area_sizes.area_name
    -- an area of several municipalities is compared only when two or more have data (with
    -- person-level data for one municipality, "the cluster" would be that municipality)
    where area_totals.municipalities_with_data >= 2 or area_sizes.members = 1

),

with_rank_key as (

    select
        *,
        case
            when area_type <> 'municipality' then null
            when kind = 'share' then value
            else share_of_population
        end as rank_value,

    from beside

),

ranked as (

    select
        *,
        case
            when rank_value is not null
                then rank() over (
                    partition by month, measure, rank_value is null
                    order by case when higher_is_better then -rank_value else rank_value end
                )
        end as rank_among_municipalities,
        count(rank_value) over (partition by month, measure) as ranked_municipalities,

    from with_rank_key

),

final as (

    select
        cast(month as date) as month,
        cast(measure as varchar) as measure,
        cast(kind as varchar) as kind,
        cast(municipality_code as integer) as municipality_code,
        cast(area_type as varchar) as area_type,
        cast(area_scheme as varchar) as area_scheme,
        cast(area_name as varchar) as area_name,
        cast(municipalities_with_data as bigint) as municipalities_with_data,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator,
        cast(value as double) as value,
        cast(population_16_66 as bigint) as population_16_66,
        cast(share_of_population as double) as share_of_population,
        cast(rank_among_municipalities as bigint) as rank_among_municipalities,
        cast(
            case when area_type = 'municipality' then ranked_municipalities end as bigint
        ) as ranked_municipalities,
        cast('person' as varchar) as source,

    from ranked

)

select * from final
