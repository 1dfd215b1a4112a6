{#-
    Persons and full-time persons on benefits per month, area and benefit group, as Jobindsats
    publishes them (tables of kind `benefits`: PTVA02, Y01A02, ...), every vintage kept.
    `benefit_group` is dim_benefit.benefit_group, or `total` for "Ydelsesgrupper i alt". A
    value Jobindsats did not give (`..`, `-`, empty) is null, never 0. Rebuilt in full each run
    (aggregates only: a few thousand rows a month for the whole country).
-#}
with

observations as (

    select * from {{ ref('stg_external__observations') }}
    where table_kind = 'benefits' and period_type = 'month'

),

final as (

    select
        cast(period_start as date) as month,
        cast(area_type as varchar) as area_type,
        cast(area_name as varchar) as area_name,
        cast(municipality_code as integer) as municipality_code,
        cast(benefit_group as varchar) as benefit_group,
        cast(max(value) filter (where measure = 'persons') as double) as persons,
        cast(max(value) filter (where measure = 'full_time_persons') as double)
            as full_time_persons,
        cast(max(value) filter (where measure = 'share_of_population') as double)
            as share_of_population,
        cast(table_id as varchar) as source_table,
        cast(retrieved_on as date) as retrieved_on,
        cast(bool_or(is_latest_vintage) as boolean) as is_latest_vintage,

    from observations
    group by
        period_start, area_type, area_name, municipality_code, benefit_group, table_id,
        retrieved_on

)

select * from final
