{#-
    The ministry's benchmark of each municipality (Jobindsats Y30R21-style tables of kind
    benchmark): the expected number of full-time persons on public benefits from the
    framework-conditions model beside the actual number, the difference (actual - expected:
    below 0 is better than expected), and the rank on the benchmark list, per period (moving
    annual totals, e.g. 2019QMAT04 = 2019-01..2019-12). Latest vintage per table; earlier
    vintages stay in raw.external_observations. Rebuilt in full each run (98 rows a quarter).
-#}
with

observations as (

    select * from {{ ref('stg_external__observations') }}
    where table_kind = 'benchmark' and is_latest_vintage and area_type = 'municipality'

),

pivoted as (

    select
        period_code,
        period_start,
        period_end,
        municipality_code,
        area_name,
        benefit_group,
        table_id,
        retrieved_on,
        max(value) filter (where measure = 'expected_full_time_persons') as expected,
        max(value) filter (where measure = 'actual_full_time_persons') as actual,
        max(value) filter (where measure = 'difference') as difference,
        max(value) filter (where measure = 'rank') as benchmark_rank,

    from observations
    group by all

),

final as (

    select
        cast(period_code as varchar) as period_code,
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        cast(municipality_code as integer) as municipality_code,
        cast(area_name as varchar) as area_name,
        cast(benefit_group as varchar) as benefit_group,
        cast(expected as double) as expected_full_time_persons,
        cast(actual as double) as actual_full_time_persons,
        cast(difference as double) as difference,
        cast(difference / nullif(expected, 0) as double) as relative_difference,
        cast(benchmark_rank as bigint) as benchmark_rank,
        cast(count(benchmark_rank) over (partition by period_code, table_id) as bigint)
            as ranked_municipalities,
        cast(table_id as varchar) as source_table,
        cast(retrieved_on as date) as retrieved_on,

    from pivoted

)

select * from final
