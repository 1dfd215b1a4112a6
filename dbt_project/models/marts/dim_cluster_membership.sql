{#-
    Comparable-municipality clusters as data (seed `clusters`, docs/domain.md §6): one row per
    scheme × municipality. Any number of schemes can be added to the seed; a municipality
    belongs to at most one cluster per scheme.
-#}
with

clusters as (

    select * from {{ ref('clusters') }}

),

municipalities as (

    select * from {{ ref('dim_municipality') }}

),

final as (

    select
        cast(clusters.scheme as varchar) as scheme,
        cast(clusters.cluster as varchar) as cluster,
        cast(clusters.kommunekode as integer) as municipality_code,
        cast(municipalities.municipality_name as varchar) as municipality_name,

    from clusters
    left join municipalities on clusters.kommunekode = municipalities.municipality_code

)

select * from final
