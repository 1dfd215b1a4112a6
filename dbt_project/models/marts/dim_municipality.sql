with

municipalities as (

    select * from {{ ref('municipalities') }}

),

final as (

    select
        cast(kommunekode as integer) as municipality_code,
        cast(kommunenavn as varchar) as municipality_name,
        cast(regionskode as integer) as region_code,
        cast(region as varchar) as region_name,
        cast(br_2007_2014 as varchar) as br_area,
        cast(rar_2015 as varchar) as rar_area,

    from municipalities

)

select * from final
