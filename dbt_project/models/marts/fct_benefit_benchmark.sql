{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month') }}",
        tags=['monthly'],
    )
}}

{#-
    Full-time persons on benefits per 1,000 residents aged 16-66, for each municipality with
    person-level data beside its comparison areas, per benefit group and month: the
    municipality, each cluster it belongs to (summed from its members, with their names and
    how many had data), its RAR area, region and 2007-14 employment region (BR), and the whole
    country. Rates compare, counts do not: areas differ in size.

    The best source per area (var benchmark_source) [ours]:
    - auto (default): a municipality's own figure comes from its person-level extracts (source
      `person`, age 16-66, days in the month / days of the month); every other municipality
      from Jobindsats' latest vintage (source `jobindsats`: the first table of var
      reconciliation_source_tables with a figure). Clusters and BR areas are summed from
      their members (source `mixed` when both sources are in the sum). RAR areas, regions and
      the country are Jobindsats' own rows unless every member has person-level data (the
      ministry's view on national extracts), then summed from the extracts;
    - person: the extracts only (areas summed from the members with data);
    - external: Jobindsats only, the municipality's own figure included.
    The denominator is int_population_months (Statbank FOLK1A where delivered). The rank
    (1 = fewest per 1,000) is among the municipalities with a rate that month.
    Incremental over the partition window.
-#}
with

segment_days as (

    select * from {{ ref('int_segment_month_days') }}
    where {{ month_window('report_month') }} and is_working_age

),

benefits as (

    select * from {{ ref('dim_benefit') }}

),

external_benefits as (

    select * from {{ ref('fct_external_benefits') }}
    where is_latest_vintage and {{ month_window('month') }} and full_time_persons is not null

),

population as (

    select * from {{ ref('int_population_months') }}
    where {{ month_window('month') }}

),

municipalities as (

    select * from {{ ref('dim_municipality') }}

),

clusters as (

    select * from {{ ref('dim_cluster_membership') }}

),

own_groups as (

    select
        segment_days.report_month as month,
        segment_days.municipality_code,
        benefits.benefit_group,
        sum(segment_days.benefit_days / segment_days.days_in_month) as full_time_persons,
        bool_or(benefits.is_public_benefit_national) as in_total,

    from segment_days
    inner join benefits on segment_days.benefit_code = benefits.benefit_code
    -- the groups Jobindsats counts as offentligt forsørgede (the national measure)
    where benefits.is_public_benefit_national
    group by segment_days.report_month, segment_days.municipality_code, benefits.benefit_group

),

own as (

    select
        month,
        municipality_code,
        benefit_group,
        full_time_persons,
    from own_groups
    union all
    select
        month,
        municipality_code,
        'total' as benefit_group,
        sum(full_time_persons) as full_time_persons,
    from own_groups
    where in_total
    group by month, municipality_code

),

own_municipalities as (

    select distinct
        month,
        municipality_code,
    from own

),

external_ranked as (

    select
        *,
        coalesce(
            list_position(
                [{{ sql_list(var('reconciliation_source_tables')) }}], source_table
            ),
            99
        ) as source_rank,
    from external_benefits

),

external as (

    select *
    from external_ranked
    qualify row_number() over (
        partition by month, area_type, area_name, benefit_group order by source_rank
    ) = 1

),

{%- set mode = var('benchmark_source') %}
{%- if mode not in ['auto', 'person', 'external'] %}
    {{ exceptions.raise_compiler_error("var benchmark_source must be auto, person or external, got " ~ mode) }}
{%- endif %}

-- every municipality's figure from the chosen source
chosen as (

    {% if mode != 'external' %}
        select
            month,
            municipality_code,
            benefit_group,
            full_time_persons,
            'person' as source,
            cast(null as varchar) as source_table,
            cast(null as date) as retrieved_on,
        from own
    {% endif %}
    {% if mode == 'auto' %}
        union all
    {% endif %}
    {% if mode != 'person' %}
        select
            external.month,
            external.municipality_code,
            external.benefit_group,
            external.full_time_persons,
            'jobindsats' as source,
            external.source_table,
            external.retrieved_on,
        from external
        where
            external.area_type = 'municipality'
            {% if mode == 'auto' %}
                and not exists (
                    select 1 as found from own_municipalities
                    where
                        own_municipalities.month = external.month
                        and own_municipalities.municipality_code = external.municipality_code
                )
            {% endif %}
    {% endif %}

),

with_population as (

    select
        chosen.*,
        population.population_16_66,

    from chosen
    left join population
        on
            chosen.month = population.month
            and chosen.municipality_code = population.municipality_code

),

-- the areas of each municipality of interest, with their members
areas as (

    select
        municipality_code,
        'municipality' as area_type,
        'municipality' as area_scheme,
        municipality_name as area_name,
        municipality_code as member_code,
    from municipalities
    union all
    select
        clusters.municipality_code,
        'cluster' as area_type,
        clusters.scheme as area_scheme,
        clusters.cluster as area_name,
        members.municipality_code as member_code,
    from clusters
    inner join clusters as members
        on clusters.scheme = members.scheme and clusters.cluster = members.cluster
    union all
    select
        mine.municipality_code,
        kinds.area_type,
        kinds.area_type as area_scheme,
        -- the area's name as Jobindsats writes it
        case kinds.area_type
            when 'rar' then mine.rar_area
            when 'region' then mine.region_name
            when 'br' then mine.br_area
            else 'Hele landet'
        end as area_name,
        other.municipality_code as member_code,
    from municipalities as mine
    cross join (values ('rar'), ('region'), ('br'), ('country')) as kinds (area_type)
    inner join municipalities as other
        on
            kinds.area_type = 'country'
            or (kinds.area_type = 'rar' and mine.rar_area = other.rar_area)
            or (kinds.area_type = 'region' and mine.region_name = other.region_name)
            or (kinds.area_type = 'br' and mine.br_area = other.br_area)

),

summed as (

    select
        with_population.month,
        areas.municipality_code,
        with_population.benefit_group,
        areas.area_type,
        areas.area_scheme,
        areas.area_name,
        sum(with_population.full_time_persons) as full_time_persons,
        case
            when count(with_population.population_16_66) = count(*)
                then sum(with_population.population_16_66)
        end as population_16_66,
        count(distinct with_population.municipality_code) as municipalities_with_data,
        case
            when count(distinct with_population.source) > 1 then 'mixed'
            else any_value(with_population.source)
        end as source,
        max(with_population.source_table) as source_table,
        max(with_population.retrieved_on) as retrieved_on,
        string_agg(distinct members.municipality_name, ', ' order by members.municipality_name)
            as member_names,
        bool_and(with_population.source = 'person') as all_person,

    from areas
    inner join with_population on areas.member_code = with_population.municipality_code
    inner join municipalities as members on areas.member_code = members.municipality_code
    -- only municipalities with data of their own get a comparison
    inner join own_municipalities
        on
            areas.municipality_code = own_municipalities.municipality_code
            and with_population.month = own_municipalities.month
    group by all

),

area_population as (

    select
        areas.municipality_code,
        areas.area_type,
        areas.area_name,
        population.month,
        sum(population.population_16_66) as population_16_66,
        count(distinct areas.member_code) as municipalities_in_area,

    from areas
    inner join population on areas.member_code = population.municipality_code
    group by all

),

-- RAR, regions and the country: Jobindsats' own rows, unless every member is from extracts
published_areas as (

    select
        summed.month,
        summed.municipality_code,
        summed.benefit_group,
        summed.area_type,
        summed.area_scheme,
        summed.area_name,
        summed.municipalities_with_data,
        summed.member_names,
        coalesce(external.full_time_persons, summed.full_time_persons) as full_time_persons,
        case
            when external.full_time_persons is not null then area_population.population_16_66
            else summed.population_16_66
        end as population_16_66,
        case when external.full_time_persons is not null then 'jobindsats' else summed.source end
            as source,
        coalesce(external.source_table, summed.source_table) as source_table,
        coalesce(external.retrieved_on, summed.retrieved_on) as retrieved_on,

    from summed
    left join external
        on
            summed.area_type in ('rar', 'region', 'country')
            and not summed.all_person
            and {{ "true" if mode != 'person' else "false" }}
            and summed.month = external.month
            and summed.benefit_group = external.benefit_group
            and summed.area_type = external.area_type
            and summed.area_name = external.area_name
    left join area_population
        on
            summed.municipality_code = area_population.municipality_code
            and summed.area_type = area_population.area_type
            and summed.area_name = area_population.area_name
            and summed.month = area_population.month

),

rates as (

    select
        published_areas.*,
        area_population.municipalities_in_area,
        published_areas.full_time_persons
        / nullif(published_areas.population_16_66, 0) * 1000 as per_1000_residents,

    from published_areas
    left join area_population
        on
            published_areas.municipality_code = area_population.municipality_code
            and published_areas.area_type = area_population.area_type
            and published_areas.area_name = area_population.area_name
            and published_areas.month = area_population.month

),

-- every municipality's rate (whoever the report is for), for the rank
all_rates as (

    select
        month,
        benefit_group,
        municipality_code,
        full_time_persons / nullif(population_16_66, 0) * 1000 as rate,
    from with_population

),

ranks as (

    select
        month,
        benefit_group,
        municipality_code,
        rank() over (partition by month, benefit_group order by rate) as rank_among_municipalities,
        count(rate) over (partition by month, benefit_group) as ranked_municipalities,
    from all_rates
    where rate is not null

),

final as (

    select
        cast(rates.month as date) as month,
        cast(rates.municipality_code as integer) as municipality_code,
        cast(rates.benefit_group as varchar) as benefit_group,
        cast(rates.area_type as varchar) as area_type,
        cast(rates.area_scheme as varchar) as area_scheme,
        cast(rates.area_name as varchar) as area_name,
        cast(rates.full_time_persons as double) as full_time_persons,
        cast(rates.population_16_66 as bigint) as population_16_66,
        cast(rates.per_1000_residents as double) as per_1000_residents,
        cast(rates.municipalities_in_area as bigint) as municipalities_in_area,
        cast(rates.municipalities_with_data as bigint) as municipalities_with_data,
        cast(rates.member_names as varchar) as member_names,
        cast(rates.source as varchar) as source,
        cast(rates.source_table as varchar) as source_table,
        cast(rates.retrieved_on as date) as retrieved_on,
        cast(
            case when rates.area_type = 'municipality' then ranks.rank_among_municipalities end
            as bigint
        ) as rank_among_municipalities,
        cast(
            case when rates.area_type = 'municipality' then ranks.ranked_municipalities end
            as bigint
        ) as ranked_municipalities,

    from rates
    left join ranks
        on
            rates.month = ranks.month
            and rates.benefit_group = ranks.benefit_group
            and rates.municipality_code = ranks.municipality_code

)

select * from final
