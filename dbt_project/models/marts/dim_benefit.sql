with

catalogue as (

    select * from {{ ref('benefit_catalogue') }}

),

final as (

    select
        cast(benefit_code as varchar) as benefit_code,
        cast(name_da as varchar) as benefit_name_da,
        cast(benefit_group as varchar) as benefit_group,
        cast(benefit_group_da as varchar) as benefit_group_da,
        cast(is_public_benefit_plan as boolean) as is_public_benefit_plan,
        cast(is_public_benefit_national as boolean) as is_public_benefit_national,
        cast(is_benefit as boolean) as is_benefit,

    from catalogue

)

select * from final
