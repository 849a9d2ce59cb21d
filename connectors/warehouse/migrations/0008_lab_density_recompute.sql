-- quaywatch warehouse schema, version 8: an officer's density recomputes an operation (M1); the values
-- before it stay on the record next to the new ones.
ALTER TABLE {database}.meter_operations ADD COLUMN IF NOT EXISTS density_previous_15c_kgm3 Nullable(Float64);
ALTER TABLE {database}.meter_operations ADD COLUMN IF NOT EXISTS density_previous_source String;
ALTER TABLE {database}.meter_operations ADD COLUMN IF NOT EXISTS gsv_previous_15c_m3 Nullable(Float64);
ALTER TABLE {database}.meter_operations ADD COLUMN IF NOT EXISTS mass_air_previous_kg Nullable(Float64);
