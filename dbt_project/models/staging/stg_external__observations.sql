{#-
    External aggregates (Jobindsats, Statistics Denmark) as loaded, one row per observation of
    one vintage; `is_latest_vintage` marks the latest retrieval of each table, the default for
    every comparison. Earlier vintages stay, so a revised month can be compared across pulls.
-#}
with

source as (

    {{ source_or_empty('raw', 'external_observations', {
        'source': 'varchar',
        'table_id': 'varchar',
        'table_kind': 'varchar',
        'retrieved_on': 'date',
        'load_id': 'varchar',
        'period_code': 'varchar',
        'period_type': 'varchar',
        'period_start': 'date',
        'period_end': 'date',
        'area_type': 'varchar',
        'area_name': 'varchar',
        'municipality_code': 'integer',
        'benefit_group': 'varchar',
        'measure': 'varchar',
        'value': 'double',
        'value_flag': 'varchar',
    }) }}

),

final as (

    select
        source,
        table_id,
        table_kind,
        retrieved_on,
        period_code,
        period_type,
        period_start,
        period_end,
        area_type,
        area_name,
        municipality_code,
        benefit_group,
        measure,
        value,
        value_flag,
        retrieved_on = max(retrieved_on) over (partition by source, table_id)
            as is_latest_vintage,

    from source

)

select * from final
