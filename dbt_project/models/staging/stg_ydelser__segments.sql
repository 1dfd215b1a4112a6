with

source as (

    select * from {{ source('raw', 'ydelser') }}

),

renamed as (

    select
        month as report_month,
        load_id,
        line_number,
        person_id,
        birth_date,
        sex,
        cast(kommunekode as integer) as municipality_code,
        ydelse as benefit_code,
        startdato as segment_start_date,
        slutdato as segment_end_date,
        visitation,
        tilbud as offer_type,
        tilbud_cvr as offer_company_cvr,
        herkomst as origin,
        flygtningestatus as refugee_status,
        opholdsdato as residence_permit_date,
        coalesce(omfang, 1.0) as extent,
        coalesce(delvis_raskmeldt, false) as is_partially_recovered,
        coalesce(ordinaere_timer, 0.0) as ordinary_hours,
        coalesce(samtaler, 0) as conversations,

    from source

)

select * from renamed
